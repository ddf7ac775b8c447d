"""Writing the outbox, relaying it to Celery, delivering notifications and e-mail.

`queue` is called by the workflow service inside the transaction of the action; everything
else runs after commit, from a task or the sweep, and is safe to run twice.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as KombuOperationalError

from notifications import messages
from notifications.models import EmailMode, Notification, OutboxMessage, Preference
from submissions.models import ProjectText
from workflow.exceptions import InvalidInput

log = logging.getLogger(__name__)

# What publishing raises when the broker cannot be reached.
BROKER_ERRORS = (KombuOperationalError, ConnectionError, OSError, TimeoutError)


def queue(
    *,
    kind: str,
    text: ProjectText,
    actor,
    recipient_ids: Iterable[int],
    comment: str = "",
    stage: str = "",
) -> list[int]:
    """Write one outbox row per recipient (never the actor) and relay them after commit.

    Must run inside the transaction of the change that causes them.
    """
    actor_id = actor.pk if actor is not None else None
    rows = OutboxMessage.objects.bulk_create(
        OutboxMessage(
            recipient_id=uid,
            kind=kind,
            stage=stage,
            text=text,
            actor_id=actor_id,
            comment=comment,
        )
        for uid in sorted(set(recipient_ids) - {actor_id})
    )
    ids = [row.pk for row in rows]
    if ids:
        transaction.on_commit(lambda: relay(ids), robust=True)
    return ids


def relay(outbox_ids: list[int]) -> int:
    """Hand outbox rows to the broker; return how many it took.

    A broker that is down refuses quickly; the rows stay undispatched for the sweep.
    """
    from notifications.tasks import deliver

    handed = []
    for outbox_id in outbox_ids:
        try:
            deliver.apply_async((outbox_id,), retry=False)
        except BROKER_ERRORS:
            log.warning("outbox %s: broker unavailable, left for the sweep", outbox_id)
            break
        except Exception:
            # In-process (no Redis) the task runs right here: one failure must not keep the
            # others from being delivered. The row stays undelivered for the sweep.
            log.exception("outbox %s: delivery failed, left for the sweep", outbox_id)
            continue
        handed.append(outbox_id)
    if handed:
        OutboxMessage.objects.filter(pk__in=handed, delivered_at__isnull=True).update(
            dispatched_at=timezone.now(), dispatch_count=F("dispatch_count") + 1
        )
    return len(handed)


def sweep_outbox() -> int:
    """Relay whatever is undelivered: never handed over, or handed over long ago.

    Also sends the immediate e-mails whose delivery task died after the notification was
    written.
    """
    stale = timezone.now() - timedelta(seconds=settings.OUTBOX_REDISPATCH_SECONDS)
    pending = list(
        OutboxMessage.objects.filter(delivered_at__isnull=True)
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale))
        .order_by("id")
        .values_list("pk", flat=True)[:5000]
    )
    relayed = relay(pending) if pending else 0
    for notification_id in _unsent_immediate_emails(stale):
        send_email(notification_id)
    return relayed


def _unsent_immediate_emails(before) -> list[int]:
    return list(
        Notification.objects.filter(email_pending=True, created_at__lt=before)
        .exclude(recipient__notification_preference__email_mode=EmailMode.DIGEST)
        .values_list("pk", flat=True)[:1000]
    )


def preference_of(user) -> Preference:
    preference, _created = Preference.objects.get_or_create(user=user)
    return preference


def deliver(outbox_id: int) -> Notification | None:
    """Turn one outbox row into its in-app notification, exactly once."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(of=("self",))
            .select_related("actor", "recipient")
            .filter(pk=outbox_id)
            .first()
        )
        if message is None or message.delivered_at is not None:
            return None  # unknown, or a redelivered task: delivered already
        preference = preference_of(message.recipient)
        wants_email = bool(preference.email_enabled and message.recipient.email)
        notification = Notification.objects.create(
            outbox=message,
            email_pending=wants_email,
            recipient_id=message.recipient_id,
            kind=message.kind,
            stage=message.stage,
            text_id=message.text_id,
            actor_name=message.actor.get_username() if message.actor else "",
            comment=message.comment,
        )
        message.delivered_at = timezone.now()
        message.save(update_fields=["delivered_at"])
    if wants_email and preference.email_mode == EmailMode.IMMEDIATE:
        send_email(notification.pk)
    return notification


def send_email(notification_id: int) -> bool:
    """Send one notification's e-mail, once; False when not sent (none wanted, sent already)."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient", "text")
            .filter(pk=notification_id, email_pending=True)
            .first()
        )
        if notification is None:
            return False
        preference = preference_of(notification.recipient)
        with translation.override(preference.language):
            subject, body = messages.email(notification)
        send_mail(subject, body, None, [notification.recipient.email])
        # Marked in the same transaction as the send: if this commit is lost the e-mail may
        # go out twice, never zero times.
        notification.email_pending = False
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["email_pending", "emailed_at"])
    return True


def send_digests(now=None) -> int:
    """Once a day, at DIGEST_HOUR, one e-mail per digest reader with what they have not had."""
    now = timezone.localtime(now or timezone.now())
    if now.hour < settings.DIGEST_HOUR:
        return 0
    sent = 0
    readers = (
        Preference.objects.filter(email_enabled=True, email_mode=EmailMode.DIGEST)
        .exclude(last_digest_on=now.date())
        .select_related("user")
    )
    for preference in readers:
        sent += _send_digest(preference.pk, now)
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
            .select_related("text")
            .order_by("created_at")
        )
        preference.last_digest_on = now.date()
        preference.save(update_fields=["last_digest_on"])
        if not pending or not preference.user.email:
            return 0
        with translation.override(preference.language):
            subject, body = messages.digest(pending)
        send_mail(subject, body, None, [preference.user.email])
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(
            email_pending=False, emailed_at=now
        )
    return 1


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


def update_preference(user, changes: dict[str, Any]) -> Preference:
    """Change a user's e-mail preferences: email_enabled, email_mode, language."""
    errors: dict[str, list[str]] = {}
    allowed = {
        "email_enabled": lambda v: isinstance(v, bool),
        "email_mode": lambda v: v in EmailMode.values,
        "language": lambda v: v in dict(settings.LANGUAGES),
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
    preference.save()
    return preference
