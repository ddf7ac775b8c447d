"""催办: the drafter of a text waiting at a review stage reminds the stage's reviewers who
have not decided yet, at most once a working day per text, audited and notified.

Nothing about the text changes (not its state, not its version): the event and the outbox
rows are the whole of it, written in one transaction under the text's row lock, so that two
urges sent at once are one urge and one refusal.
"""

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from submissions.models import ProjectText
from workflow import audit
from workflow import outbox as notifications
from workflow.exceptions import NotPermitted, WrongState
from workflow.models import AuditEvent, Outcome
from workflow.permissions import Authority
from workflow.policy import TextFacts, may_edit, waiting_people
from workflow.services._shared import lock_visible_text, recording_refusals

URGE = "urge"


def working_day(moment: datetime) -> date:
    """The working day a moment counts for: its local date, a Saturday or Sunday counting
    as the Friday before (urged on Friday, the reviewers are not urged again before Monday)."""
    day = timezone.localtime(moment).date()
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def last_urged_at(text_id: int) -> datetime | None:
    """When the text's reviewers were last urged, if ever (from its audit stream)."""
    return (
        AuditEvent.objects.filter(
            stream=audit.text_stream(text_id), action=URGE, outcome=Outcome.OK
        )
        .order_by("-seq")
        .values_list("at", flat=True)
        .first()
    )


def urge_refusal(authority: Authority, text: ProjectText, facts: TextFacts) -> Any:
    """Why this user may not urge the text's reviewers now (a Refusal), or None.

    Pages ask this to offer the button; the service asks it again under the lock."""
    stage = facts.stage_of(text) if facts.pinned else None
    if stage is None:
        return WrongState("wrong_state", text_id=text.pk, state=text.state, action=URGE)
    if not may_edit(authority, text):
        return NotPermitted("may_not_urge", text_id=text.pk)
    last = last_urged_at(text.pk)
    if last is not None and working_day(last) == working_day(timezone.now()):
        return WrongState("already_urged", text_id=text.pk)
    return None


def urge(*, actor: AbstractBaseUser, text_id: Any) -> ProjectText:
    """催办: tell the current stage's reviewers who have not decided that the drafter is
    waiting. 404 for a text the actor may not see, 403 for anyone but its drafters, 409 at
    no review stage or when already urged this working day."""
    return recording_refusals(URGE, lambda: _urge(actor, text_id), actor=actor, text_id=text_id)


@transaction.atomic(durable=True)
def _urge(actor: AbstractBaseUser, text_id: Any) -> ProjectText:
    authority = Authority.of(actor)
    text = lock_visible_text(authority, text_id)
    facts = TextFacts.of(text)
    refusal = urge_refusal(authority, text, facts)
    if refusal is not None:
        raise refusal
    stage = facts.stage_of(text)
    recipients = waiting_people(stage, text, facts) - {actor.pk}
    audit.record_for_text(
        text,
        actor=actor,
        action=URGE,
        from_state=text.state,
        to_state=text.state,
        revision=text.revision,
        detail={"stage": stage.code, "recipients": len(recipients)},
    )
    notifications.queue(
        kind=URGE, text=text, actor=actor, recipient_ids=recipients, stage=stage.code
    )
    return text
