"""Reminding and escalating texts that sit too long at a stage, by the database's clock."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from notifications import services as notifications
from notifications.models import StageVisit
from workflow import audit
from workflow.clock import db_now
from workflow.permissions import role_holders
from workflow.policy import RevisionFacts
from workflow.states import APPROVING_ACTIONS, STAGE_ROLE


def sweep_deadlines(now: datetime | None = None) -> int:
    """Remind a stage's assignees once when a text is due there, and tell the stage's
    supervisors once when it is overdue by ESCALATE_AFTER; each is audited.

    `now` defaults to the database's clock. Returns how many reminders and escalations
    were sent.
    """
    now = now or db_now()
    done = 0
    open_visits = StageVisit.objects.filter(left_at__isnull=True)
    for visit_id in open_visits.filter(reminded_at__isnull=True, due_at__lte=now).values_list(
        "pk", flat=True
    ):
        done += _chase(visit_id, now, "remind")
    for visit_id in open_visits.filter(
        reminded_at__isnull=False, escalated_at__isnull=True, escalate_at__lte=now
    ).values_list("pk", flat=True):
        done += _chase(visit_id, now, "escalate")
    return done


@transaction.atomic(durable=True)
def _chase(visit_id: int, now: datetime, kind: str) -> int:
    visit = (
        StageVisit.objects.select_for_update(of=("self",))
        .select_related("text__department")
        .get(pk=visit_id)
    )
    # Checked again under the lock: another sweep may have done it, or the text moved on.
    if visit.left_at is not None:
        return 0
    if kind == "remind":
        if visit.reminded_at is not None or visit.due_at > now:
            return 0
        visit.reminded_at = now
        recipients = _assignees(visit)
    else:
        if visit.escalated_at is not None or visit.escalate_at > now:
            return 0
        visit.escalated_at = now
        group = settings.STAGE_SUPERVISOR_GROUP.get(visit.stage, "")
        supervisors = get_user_model().objects.filter(groups__name=group, is_active=True)
        recipients = set(supervisors.values_list("pk", flat=True))
    visit.save(update_fields=["reminded_at", "escalated_at"])
    text = visit.text
    audit.record_for_text(
        text,
        actor=None,
        action=kind,
        from_state=visit.stage,
        to_state=visit.stage,
        revision=visit.revision,
        detail={
            "stage": visit.stage,
            "due_at": visit.due_at.isoformat(),
            "recipients": len(recipients),
        },
    )
    notifications.queue(
        kind=kind, text=text, actor=None, recipient_ids=recipients, stage=visit.stage
    )
    return 1


def _assignees(visit: StageVisit) -> set[int]:
    """Who could act on the text at its stage: the stage's role holders less those whom
    separation of duties keeps out."""
    text = visit.text
    facts = RevisionFacts.of(text)
    holders = set(
        role_holders(STAGE_ROLE[visit.stage], text.department_id).values_list("pk", flat=True)
    )
    approved = {actor_id for actor_id, done in facts.decisions if done in APPROVING_ACTIONS}
    return holders - facts.author_ids - approved
