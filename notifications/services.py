"""Writing the outbox, relaying it to Celery, delivering notifications and e-mail.

The workflow writes the outbox in the transaction of the action (`workflow.outbox`);
everything here runs after commit, from a task or the sweep, and is safe to run twice.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as KombuOperationalError

from notifications import messages
from notifications.models import EmailMode, NoticeGroup, Notification, Preference
from workflow import prepared
from workflow.exceptions import InvalidInput
from workflow.models import Decision, OutboxMessage

log = logging.getLogger(__name__)

# The last error of a failed e-mail, as the admin shows it: enough for any backend's message.
ERROR_MAX_CHARS = 2000

# What publishing raises when the broker cannot be reached.
BROKER_ERRORS = (KombuOperationalError, ConnectionError, OSError, TimeoutError)


def relay_committed(sender: Any, ids: list[int], **kwargs: Any) -> None:
    """Receiver of `workflow.outbox.outbox_committed`: relay the rows just committed."""
    relay(ids)


def relay(outbox_ids: list[int]) -> int:
    """Hand outbox rows to the broker, in batches of OUTBOX_BATCH_SIZE; return how many it took.

    A broker that is down refuses quickly; the rows stay undispatched for the sweep.
    """
    from notifications.tasks import deliver_batch

    # In-process (no Redis) each row is delivered on its own, right here, as before: one
    # row's failure must not undo the others', and a request never delivers rows not its own.
    in_process = bool(deliver_batch.app.conf.task_always_eager)
    size = 1 if in_process else settings.OUTBOX_BATCH_SIZE
    handed = []
    for start in range(0, len(outbox_ids), size):
        batch = list(outbox_ids[start : start + size])
        try:
            deliver_batch.apply_async((batch,), {"fill": not in_process}, retry=False)
        except BROKER_ERRORS:
            log.warning("outbox %s: broker unavailable, left for the sweep", batch)
            break
        except Exception:
            # In-process the task runs right here: one failure must not keep the others from
            # being delivered. The row stays undelivered for the sweep.
            log.exception("outbox %s: delivery failed, left for the sweep", batch)
            continue
        handed.extend(batch)
    if handed:
        OutboxMessage.objects.filter(pk__in=handed, delivered_at__isnull=True).update(
            dispatched_at=timezone.now(), dispatch_count=F("dispatch_count") + 1
        )
    return len(handed)


def sweep_outbox() -> int:
    """Relay whatever is undelivered: never handed over, or handed over long ago.

    Also sends the immediate e-mails whose delivery task died after the notification was
    written, or whose sending failed and is due again. One message that fails never stops
    the others, nor the sweep.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.OUTBOX_REDISPATCH_SECONDS)
    pending = list(
        OutboxMessage.objects.filter(delivered_at__isnull=True)
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale))
        .order_by("id")
        .values_list("pk", flat=True)[:5000]
    )
    relayed = relay(pending) if pending else 0
    for notification_id in _unsent_immediate_emails(stale, now):
        try:
            send_email(notification_id)
        except Exception:
            # A failed send is recorded by send_email; this is anything else (the database,
            # say): that one message's transaction rolled back and it stays for the next sweep.
            log.exception("notification %s: e-mail left for the next sweep", notification_id)
    return relayed


def _unsent_immediate_emails(before, now) -> list[int]:
    return list(
        Notification.objects.filter(email_pending=True, created_at__lt=before)
        .filter(Q(email_retry_at__isnull=True) | Q(email_retry_at__lte=now))
        .exclude(recipient__notification_preference__email_mode=EmailMode.DIGEST)
        # In the order they fell due: a message that failed waits behind everything that was
        # already due when it failed, so messages that keep failing never starve newer ones.
        .order_by(Coalesce("email_retry_at", "created_at"), "id")
        .values_list("pk", flat=True)[: settings.EMAIL_RETRY_BATCH]
    )


def preference_of(user) -> Preference:
    preference, _created = Preference.objects.get_or_create(user=user)
    return preference


# Kinds that are not a stage's approval (those are `waiting` while the text goes on to a stage,
# `results` once it is approved at the last).
GROUP_OF_KIND = {
    "submit": NoticeGroup.WAITING,
    "return": NoticeGroup.RESULTS,
    "reject": NoticeGroup.RESULTS,
    "remind": NoticeGroup.CHASING,
    "escalate": NoticeGroup.CHASING,
    "urge": NoticeGroup.CHASING,
    "add_signer": NoticeGroup.SIGNER,
}
# Withdrawing tells nobody; anything else not named is a stage's approval.
_UNGROUPED = frozenset({"withdraw"})


def group_of(kind: str, stage: str) -> str | None:
    """Which preference group (NoticeGroup) a notice of `kind` belongs to; None for a kind
    no preference covers (always delivered, as before preferences per kind)."""
    if kind in GROUP_OF_KIND:
        return GROUP_OF_KIND[kind]
    if kind in _UNGROUPED:
        return None
    return NoticeGroup.WAITING if stage else NoticeGroup.RESULTS


def in_groups(groups: Iterable[str]) -> Q:
    """`group_of(kind, stage) in groups` as a filter on notices (or outbox rows), for the
    database to apply: the same tables, read the same way."""
    named = [kind for kind, group in GROUP_OF_KIND.items() if group in groups]
    condition = Q(kind__in=named) if named else Q(pk__in=[])
    unnamed = ~Q(kind__in=[*GROUP_OF_KIND, *_UNGROUPED])
    if NoticeGroup.WAITING in groups:
        condition |= unnamed & ~Q(stage="")
    if NoticeGroup.RESULTS in groups:
        condition |= unnamed & Q(stage="")
    return condition


# The notices that ask their reader to act on the text at a stage: done with once they act.
ASKING_TO_ACT = frozenset({NoticeGroup.WAITING, NoticeGroup.CHASING, NoticeGroup.SIGNER})


def deliver(outbox_id: int) -> Notification | None:
    """Turn one outbox row into its in-app notification, exactly once (None: unknown, or
    delivered already). The one-row case of `deliver_batch`, without taking other rows."""
    delivered = deliver_batch([outbox_id], fill=False)
    return delivered[0] if delivered else None


def deliver_batch(outbox_ids: Iterable[int], *, fill: bool = True) -> list[Notification]:
    """`deliver_together`; should that fail for a batch of several rows, each row it was
    handed is delivered on its own, so that one row that cannot be delivered (logged, left
    for the sweep) never holds up the others."""
    wanted = sorted(set(outbox_ids))
    if len(wanted) <= 1 and not fill:
        return deliver_together(wanted, fill=False)
    try:
        return deliver_together(wanted, fill=fill)
    except Exception:
        log.exception("outbox batch %s: delivery failed, delivering its rows one by one", wanted)
    delivered = []
    for outbox_id in wanted:
        try:
            delivered += deliver_together([outbox_id], fill=False)
        except Exception:
            log.exception("outbox %s: delivery failed, left for the sweep", outbox_id)
    return delivered


def deliver_together(outbox_ids: Iterable[int], *, fill: bool = True) -> list[Notification]:
    """Turn outbox rows into their in-app notifications, each exactly once, in one transaction;
    return the notifications made. Whether one shows in the app and goes by e-mail is its
    recipient's preference for its kind, at delivery.

    With `fill`, the batch is topped up to OUTBOX_BATCH_SIZE with the oldest other undelivered
    rows: a burst of actions queues one small task each, and the first tasks to run deliver
    the rows of those behind them, which then find nothing left to do.

    Rows locked by another delivery are skipped, never waited for: that delivery makes their
    notifications, or, if it fails, the sweep hands them over again. A row delivered already
    (a redelivered task, a batch that overlaps another) notifies nobody again.
    """
    wanted = sorted(set(outbox_ids))
    with transaction.atomic():
        messages_ = _lock_undelivered(Q(pk__in=wanted), len(wanted)) if wanted else []
        room = settings.OUTBOX_BATCH_SIZE - len(messages_)
        if fill and room > 0:
            messages_ += _lock_undelivered(~Q(pk__in=wanted), room)
        if not messages_:
            return []
        now = timezone.now()
        preferences = preferences_of({m.recipient_id for m in messages_})
        acted = _acted_on(messages_)
        notifications = []
        for message in messages_:
            preference = preferences[message.recipient_id]
            group = group_of(message.kind, message.stage)
            # Delivered late (the broker was down), a request to act that the recipient has
            # acted on meanwhile is done with already: read, and not e-mailed.
            done = message.pk in acted
            wants_email = (
                bool(preference.wants_email(group) and message.recipient.email) and not done
            )
            in_app = preference.wants_in_app(group)
            notifications.append(
                Notification(
                    outbox=message,
                    in_app=in_app,
                    # Not shown in the app, or done with: never waiting to be read.
                    read_at=now if done or not in_app else None,
                    email_pending=wants_email,
                    recipient_id=message.recipient_id,
                    kind=message.kind,
                    stage=message.stage,
                    text_id=message.text_id,
                    actor_name=message.actor.get_username() if message.actor else "",
                    on_behalf_of_name=(
                        message.on_behalf_of.get_username() if message.on_behalf_of else ""
                    ),
                    comment=message.comment,
                )
            )
        # On PostgreSQL and SQLite bulk_create sets the new rows' ids (RETURNING).
        notifications = Notification.objects.bulk_create(notifications)
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages_]).update(delivered_at=now)
    for notification in notifications:
        if notification.email_pending and (
            preferences[notification.recipient_id].email_mode == EmailMode.IMMEDIATE
        ):
            send_email(notification.pk)
    return notifications


def _lock_undelivered(which: Q, limit: int) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("actor", "recipient", "on_behalf_of")
        .filter(which, delivered_at__isnull=True)
        .order_by("pk")[:limit]
    )


def preferences_of(user_ids: Iterable[int]) -> dict[int, Preference]:
    """Each user's preference, made with the defaults for those who have none yet."""
    ids = set(user_ids)
    found = {p.user_id: p for p in Preference.objects.filter(user_id__in=ids)}
    missing = ids - found.keys()
    if missing:
        # Another delivery may make the same one meanwhile: theirs is as good as ours.
        Preference.objects.bulk_create(
            [Preference(user_id=uid) for uid in missing], ignore_conflicts=True
        )
        found.update((p.user_id, p) for p in Preference.objects.filter(user_id__in=missing))
    return found


def _acted_on(messages_: list[OutboxMessage]) -> set[int]:
    """The outbox rows asking their recipient to act whose recipient has decided on the text
    (for themselves or for someone) since the row was written. One query for the batch."""
    asking = [m for m in messages_ if group_of(m.kind, m.stage) in ASKING_TO_ACT]
    if not asking:
        return set()
    people = {m.recipient_id for m in asking}
    decided: dict[int, list[tuple[set[int], Any]]] = {}
    for text_id, actor_id, on_behalf_of_id, at in (
        Decision.objects.filter(
            text_id__in={m.text_id for m in asking},
            decided_at__gte=min(m.created_at for m in asking),
        )
        .filter(Q(actor_id__in=people) | Q(on_behalf_of_id__in=people))
        .values_list("text_id", "actor_id", "on_behalf_of_id", "decided_at")
    ):
        decided.setdefault(text_id, []).append(({actor_id, on_behalf_of_id}, at))
    return {
        m.pk
        for m in asking
        if any(
            m.recipient_id in who and at >= m.created_at for who, at in decided.get(m.text_id, ())
        )
    }


def send_email(notification_id: int) -> bool:
    """Send one notification's e-mail, once; False when not sent: none wanted, sent already,
    being sent by another process, or the sending failed (recorded for a retry)."""
    with transaction.atomic():
        notification = (
            # skip_locked: another process is sending this one; waiting would only hold up
            # the rest of this sweep behind a slow mail server.
            Notification.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("recipient", "text")
            .filter(pk=notification_id, email_pending=True)
            .first()
        )
        if notification is None:
            return False
        preference = preference_of(notification.recipient)
        try:
            with translation.override(preference.language):
                subject, body = messages.email(notification)
            _mail(subject, body, notification.recipient.email)
        except Exception as error:  # whatever the backend raises, it is this message's failure
            _record_failure([notification], error, timezone.now())
            return False
        # Marked in the same transaction as the send: if this commit is lost the e-mail may
        # go out twice, never zero times.
        notification.email_pending = False
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["email_pending", "emailed_at"])
    return True


def send_digests(now=None) -> int:
    """Once a day, at DIGEST_HOUR, one e-mail per digest reader with what they have not had.

    A reader whose digest fails is tried again at a later run (hourly) once its backoff is
    over; the other readers get theirs.
    """
    now = timezone.localtime(now or timezone.now())
    if now.hour < settings.DIGEST_HOUR:
        return 0
    sent = 0
    readers = (
        Preference.objects.filter(email_enabled=True, email_mode=EmailMode.DIGEST)
        .exclude(last_digest_on=now.date())
        .values_list("pk", flat=True)
    )
    for preference_id in list(readers):
        try:
            sent += _send_digest(preference_id, now)
        except Exception:
            # Not a failed send (recorded by _send_digest) but, say, the database: this
            # reader's transaction rolled back and the next run tries again.
            log.exception("digest of preference %s left for the next run", preference_id)
    return sent


def _send_digest(preference_id: int, now) -> int:
    with transaction.atomic():
        preference = (
            Preference.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=preference_id)
        )
        if preference.last_digest_on == now.date():
            return 0
        pending = list(
            Notification.objects.select_for_update(of=("self",))
            .filter(recipient=preference.user, email_pending=True)
            .select_related("text", "text__route")
            .order_by("created_at")
        )
        address = preference.user.email
        if pending and address and not any(_due(n, now) for n in pending):
            return 0  # the last digest failed and its backoff is not over: a later run
        preference.last_digest_on = now.date()
        if not pending or not address:
            preference.save(update_fields=["last_digest_on"])
            return 0
        try:
            with translation.override(preference.language):
                subject, body = messages.digest(pending)
            _mail(subject, body, address)
        except Exception as error:  # this reader's failure; the day is not marked done
            _record_failure(pending, error, now)
            return 0
        preference.save(update_fields=["last_digest_on"])
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(
            email_pending=False, emailed_at=now
        )
    return 1


def _mail(subject: str, body: str, address: str) -> None:
    """Every e-mail leaves through here: its subject becomes one header line whatever a
    title, a reason or a name holds; the body keeps its lines."""
    send_mail(messages.one_line(subject), body, None, [address])


def _due(notification: Notification, now) -> bool:
    return notification.email_retry_at is None or notification.email_retry_at <= now


def retry_delay(failures: int) -> timedelta:
    """How long an e-mail that has failed `failures` times waits: doubling, capped."""
    seconds = settings.EMAIL_RETRY_SECONDS * 2 ** min(failures - 1, 32)
    return timedelta(seconds=min(seconds, settings.EMAIL_RETRY_MAX_SECONDS))


def _record_failure(notifications: list[Notification], error: Exception, now) -> None:
    """Note a failed send on each notification: tried again after its backoff, given up after
    EMAIL_MAX_ATTEMPTS failures. Runs in the sending transaction, which nothing else broke
    (building and sending a message do not touch the database)."""
    reason = _storable(f"{type(error).__name__}: {error}"[:ERROR_MAX_CHARS])
    for notification in notifications:
        notification.email_failures += 1
        notification.email_error = reason
        if notification.email_failures >= settings.EMAIL_MAX_ATTEMPTS:
            notification.email_pending = False
            notification.email_retry_at = None
            notification.email_failed_at = now
            log.error(
                "notification %s: e-mail given up after %d failures: %s",
                notification.pk,
                notification.email_failures,
                reason,
            )
        else:
            notification.email_retry_at = now + retry_delay(notification.email_failures)
            log.warning(
                "notification %s: e-mail failed (%d of %d), next try at %s: %s",
                notification.pk,
                notification.email_failures,
                settings.EMAIL_MAX_ATTEMPTS,
                notification.email_retry_at.isoformat(),
                reason,
            )
    Notification.objects.bulk_update(
        notifications,
        ["email_failures", "email_error", "email_pending", "email_retry_at", "email_failed_at"],
    )


def _storable(text: str) -> str:
    # An error may quote what it refused (a NUL, a lone surrogate) that PostgreSQL would not
    # store: recording the failure must not fail in turn.
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def retry_emails(notification_ids: Iterable[int]) -> int:
    """Send again, at the next sweep or digest, e-mails that were given up or are waiting for
    a retry (an administrator fixed the address or the mail server); returns how many."""
    return (
        Notification.objects.filter(pk__in=list(notification_ids), emailed_at__isnull=True)
        .filter(Q(email_pending=True) | Q(email_failed_at__isnull=False))
        .update(email_pending=True, email_failures=0, email_retry_at=None, email_failed_at=None)
    )


def mark_read(user, notification_id: int) -> Notification | None:
    notification = Notification.objects.filter(pk=notification_id, recipient=user).first()
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def listed(user):
    """The notifications a user sees in the app, newest first."""
    return Notification.objects.filter(recipient=user, in_app=True).order_by("-created_at", "-id")


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, in_app=True, read_at__isnull=True).count()


def mark_acted(user_ids: Iterable[int], text_id: int, at) -> int:
    """Someone acted on a text (a decision at its stage, for themselves or for whom they act):
    the notices that asked them (or whom they act for) to act on it, delivered by then, are
    done with and marked read. Returns how many. One statement, prepared: it follows every
    action."""
    people = sorted(set(user_ids))
    if not people:
        return 0
    sql, asking_params = _mark_acted_statement(connection.vendor, len(people))
    at = Notification._meta.get_field("read_at").get_db_prep_save(at, connection)
    return prepared.execute(sql, [at, *people, text_id, at, *asking_params])


@cache
def _mark_acted_statement(vendor: str, people: int) -> tuple[str, tuple[Any, ...]]:
    """`mark_acted`'s UPDATE for so many people, written once per process: building the
    ORM's update of `in_groups(ASKING_TO_ACT)` cost twice what running it did (issue 12)."""
    query = Notification.objects.filter(in_groups(ASKING_TO_ACT)).query
    asking, asking_params = query.get_compiler(connection=connection).compile(query.where)
    quote = connection.ops.quote_name
    table = quote(Notification._meta.db_table)
    name = {
        field: quote(Notification._meta.get_field(field).column)
        for field in ("read_at", "recipient", "text", "created_at")
    }
    column = {field: f"{table}.{quoted}" for field, quoted in name.items()}
    marks = ", ".join(["%s"] * people)
    sql = (
        f"UPDATE {table} SET {name['read_at']} = %s"  # noqa: S608 (names only)
        f" WHERE {column['recipient']} IN ({marks}) AND {column['text']} = %s"
        f" AND {column['read_at']} IS NULL AND {column['created_at']} <= %s AND ({asking})"
    )
    return sql, tuple(asking_params)


def decision_committed(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """Receiver of post_save on `workflow.models.Decision`: once the action's transaction
    commits, its actor's (and their principal's) waiting notices about the text are read."""
    if not created:
        return
    people = {instance.actor_id, instance.on_behalf_of_id} - {None}
    text_id, at = instance.text_id, instance.decided_at
    transaction.on_commit(lambda: mark_acted(people, text_id, at), robust=True)


PREFERENCE_GROUP_FIELDS = tuple(
    f"{channel}_{group}" for group in NoticeGroup.values for channel in ("in_app", "email")
)


def set_language(user, language: str) -> Preference:
    """The user chose their language (the header's switch): their pages from the next
    sign-in on, and their e-mail."""
    return update_preference(user, {"language": language})


def update_preference(user, changes: dict[str, Any]) -> Preference:
    """Change a user's notification preferences: email_enabled, email_mode, language, and
    per kind of notice in the app and by e-mail (PREFERENCE_GROUP_FIELDS)."""
    errors: dict[str, list[str]] = {}
    # Type first: a list or an object is no mode or language (and cannot be looked up).
    allowed = {
        "email_enabled": lambda v: isinstance(v, bool),
        "email_mode": lambda v: isinstance(v, str) and v in EmailMode.values,
        "language": lambda v: isinstance(v, str) and v in dict(settings.LANGUAGES),
        **{name: (lambda v: isinstance(v, bool)) for name in PREFERENCE_GROUP_FIELDS},
    }
    for name, value in changes.items():
        check = allowed.get(name)
        if check is None:
            errors[name] = [_("不能设置此字段。")]
        elif not check(value):
            errors[name] = [_("取值无效。")]
    if errors:
        raise InvalidInput(errors)
    preference = preference_of(user)
    for name, value in changes.items():
        setattr(preference, name, value)
    if "language" in changes:
        preference.language_chosen = True
    preference.save()
    return preference
