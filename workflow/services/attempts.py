"""Recording refused attempts, within a budget.

A refused attempt is recorded in a transaction of its own (DESIGN.md, "Audit history"). So
that nobody can grow the log without bound by being refused (someone who cannot even see a
text once added 27 events a second to its history), each source (a user, or whoever is
trying to sign in as an account) records at most AUDIT_REFUSALS_PER_WINDOW attempts per
stream in a window of AUDIT_REFUSAL_WINDOW_SECONDS in full. Beyond that its attempts are
only counted (`AttemptTally`), and the count is written as one `refusals_summarised` event
once the window has passed: by the source's next attempt, or by the periodic sweep.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from workflow import audit
from workflow.exceptions import NotPermitted
from workflow.models import AttemptTally, Outcome

SUMMARY_ACTION = "refusals_summarised"
# The source of attempts made with manage.py, which has no user.
COMMAND_LINE = "manage.py"
# A refused attempt changed nothing: its comment is kept only as far as it explains it.
REFUSED_COMMENT_CHARS = 200


@dataclass(frozen=True)
class RefusedAttempt:
    """What one refused attempt records: on which stream, from which source, and the event."""

    stream: str
    source: str
    action: str
    actor: AbstractBaseUser | None = None
    text_id: int | None = None
    department: str = ""
    from_state: str = ""
    revision: int | None = None
    comment: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def _window() -> timedelta:
    return timedelta(seconds=settings.AUDIT_REFUSAL_WINDOW_SECONDS)


def _lock_tally(attempt: RefusedAttempt, now) -> AttemptTally:
    found = (
        AttemptTally.objects.select_for_update()
        .filter(stream=attempt.stream, source=attempt.source)
        .first()
    )
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return AttemptTally.objects.create(
                stream=attempt.stream,
                source=attempt.source,
                window_start=now,
                actor=attempt.actor,
                actor_name=attempt.actor.get_username() if attempt.actor else "",
                text_id=attempt.text_id,
                department=attempt.department,
            )
    except IntegrityError:
        # The same source was refused twice at once: queue behind the other's lock.
        return AttemptTally.objects.select_for_update().get(
            stream=attempt.stream, source=attempt.source
        )


def _summarise(tally: AttemptTally) -> None:
    """Write the window's suppressed attempts as one event and start counting afresh."""
    if tally.suppressed:
        audit.record(
            stream=tally.stream,
            actor=tally.actor,
            action=SUMMARY_ACTION,
            outcome=Outcome.REFUSED,
            text_id=tally.text_id,
            department=tally.department,
            detail={
                "source": tally.source,
                "count": tally.suppressed,
                "first_at": tally.first_suppressed_at.isoformat(),
                "last_at": tally.last_suppressed_at.isoformat(),
                "actions": tally.actions,
            },
        )
    tally.recorded = tally.suppressed = 0
    tally.first_suppressed_at = tally.last_suppressed_at = None
    tally.actions = {}


@transaction.atomic(durable=True)
def record_refused(attempt: RefusedAttempt) -> bool:
    """Record one refused attempt in full, or count it once its source's budget is spent.

    True when it was recorded as an event of its own.
    """
    now = timezone.now()
    tally = _lock_tally(attempt, now)
    if tally.window_start <= now - _window():
        _summarise(tally)
        tally.window_start = now
    recorded = tally.recorded < settings.AUDIT_REFUSALS_PER_WINDOW
    if recorded:
        comment = attempt.comment
        detail = dict(attempt.detail)
        if len(comment) > REFUSED_COMMENT_CHARS:
            detail["comment_chars"] = len(comment)
            comment = comment[:REFUSED_COMMENT_CHARS]
        audit.record(
            stream=attempt.stream,
            actor=attempt.actor,
            action=attempt.action,
            outcome=Outcome.REFUSED,
            text_id=attempt.text_id,
            department=attempt.department,
            from_state=attempt.from_state,
            revision=attempt.revision,
            comment=comment,
            detail=detail,
        )
        tally.recorded += 1
    else:
        tally.suppressed += 1
        tally.first_suppressed_at = tally.first_suppressed_at or now
        tally.last_suppressed_at = now
        tally.actions[attempt.action] = tally.actions.get(attempt.action, 0) + 1
    tally.save()
    return recorded


def summarise_ended_windows() -> int:
    """Write the summary of every window that has passed; forget the quiet ones.

    Returns how many summaries were written. Run by the periodic sweep.
    """
    cutoff = timezone.now() - _window()
    AttemptTally.objects.filter(window_start__lte=cutoff, suppressed=0).delete()
    written = 0
    for tally_id in AttemptTally.objects.filter(window_start__lte=cutoff).values_list(
        "pk", flat=True
    ):
        written += _summarise_one(tally_id, cutoff)
    return written


@transaction.atomic(durable=True)
def _summarise_one(tally_id: int, cutoff) -> int:
    tally = AttemptTally.objects.select_for_update().filter(pk=tally_id).first()
    # Someone's next attempt may have summarised it in the meantime.
    if tally is None or tally.window_start > cutoff or not tally.suppressed:
        return 0
    _summarise(tally)
    AttemptTally.objects.filter(pk=tally.pk).delete()
    return 1


def refuse_on_account(
    refusal: NotPermitted,
    *,
    action: str,
    actor: AbstractBaseUser | None,
    user: AbstractBaseUser,
    department: str = "",
    **detail: Any,
) -> NoReturn:
    """Record a refused change to `user`'s account or roles on their stream, then raise.
    `actor` None is the command line (a rule such as 三员分立 binds it too)."""
    record_refused(
        RefusedAttempt(
            stream=audit.user_stream(user.pk),
            source=audit.user_stream(actor.pk) if actor is not None else COMMAND_LINE,
            action=action,
            actor=actor,
            department=department,
            detail={
                "user": user.get_username(),
                **detail,
                "reason": refusal.code,
                "refusal": refusal.reason,
                "params": refusal.params,
            },
        )
    )
    raise refusal
