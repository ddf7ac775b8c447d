"""Reminding and escalating texts that sit too long at a stage, by the database's clock."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from workflow import audit
from workflow import outbox as notifications
from workflow.clock import db_now
from workflow.definitions import StageSpec
from workflow.models import StageVisit
from workflow.policy import TextFacts, waiting_people


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
        stage = _stage_of(visit)
        group = stage.supervisor_role if stage else ""
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


def _stage_of(visit: StageVisit) -> StageSpec | None:
    facts = TextFacts.of(visit.text)
    return facts.machine.stage(visit.stage) if facts.pinned else None


def _assignees(visit: StageVisit) -> set[int]:
    """Whom the text waits for at its stage (`policy.waiting_people`)."""
    text = visit.text
    facts = TextFacts.of(text)
    stage = facts.stage_of(text) if facts.pinned else None
    if stage is None or stage.code != visit.stage:
        return set()
    return waiting_people(stage, text, facts)
