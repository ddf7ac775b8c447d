"""The 审批表's rows: one per stage of the text's workflow, with each reviewer's opinion,
signature and date from the decisions on its latest revision; a stage not reached has none
(the printed form leaves it blank, to be filled by hand)."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from submissions.lifecycle import FixedAction
from submissions.models import ProjectText
from workflow.machine import Machine, machine_of
from workflow.models import Decision
from workflow.policy import action_label
from workflow.vocabulary import state_label


@dataclass
class Signature:
    opinion: str
    signer: str
    date: datetime


@dataclass
class StageRow:
    code: str
    name: str
    applies: bool
    signatures: list[Signature] = field(default_factory=list)


def _person(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def _opinion(decision: Decision, machine: Machine) -> str:
    if decision.action in (FixedAction.RETURN, FixedAction.REJECT):
        return _("%(action)s：%(reason)s") % {
            "action": action_label(decision.action),
            "reason": decision.comment,
        }
    return decision.comment or action_label(decision.action, machine)


def _signer(decision: Decision) -> str:
    if decision.on_behalf_of_id:
        return _("%(actor)s（代 %(principal)s）") % {
            "actor": _person(decision.actor),
            "principal": _person(decision.on_behalf_of),
        }
    return _person(decision.actor)


def _form_name(name: str) -> str:
    """A stage as the form names its row: 待审批 (the state) is the stage 审批."""
    return name[1:] if name.startswith("待") and len(name) > 1 else name


def stage_rows(text: ProjectText) -> list[StageRow]:
    """One row per stage of the text's workflow, with the decisions taken there on the
    latest revision (none for a stage not reached)."""
    machine = machine_of(text)
    decisions = (
        Decision.objects.filter(text=text, revision__number=text.revision)
        .select_related("actor", "on_behalf_of")
        .order_by("decided_at", "id")
        if text.revision
        else Decision.objects.none()
    )
    by_stage: dict[str, list[Signature]] = {}
    for decision in decisions:
        by_stage.setdefault(decision.stage, []).append(
            Signature(_opinion(decision, machine), _signer(decision), decision.decided_at)
        )
    amount = Decimal(text.amount or 0)
    return [
        StageRow(
            code=stage.code,
            name=_form_name(state_label(stage.code, machine.version_id)),
            applies=machine.applies(stage, amount),
            signatures=by_stage.get(stage.code, []),
        )
        for stage in machine.stages
    ]
