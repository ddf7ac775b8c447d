"""The printable 审批表 of one text, in the county's layout: the project, its department,
year and amount (in figures and in 大写), its eight sections in full, then one row per stage
of its workflow with each reviewer's opinion, signature and date (from the decisions on its
latest revision); the stages it has not reached are left blank, to be filled by hand."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import cn2an
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from submissions.api import authority_of
from submissions.content import section_choices, section_heading
from submissions.lifecycle import FixedAction
from submissions.models import ProjectText
from submissions.views._common import visible_text
from workflow.machine import Machine, catalog, machine_for
from workflow.models import Decision, Route
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


def amount_in_words(amount: Any) -> str:
    """1751800.00 -> 壹佰柒拾伍万壹仟捌佰元整 (the 大写 a finance form asks for); "" if it
    cannot be written so."""
    try:
        return cn2an.an2cn(f"{Decimal(amount):.2f}", "rmb")
    except (InvalidOperation, ValueError, TypeError, KeyError):
        return ""


def _machine_of(text: ProjectText) -> Machine:
    """The workflow version the text's latest review followed (the current one before any)."""
    try:
        return machine_for(text.route.version_id)
    except Route.DoesNotExist:
        return catalog().current


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
    machine = _machine_of(text)
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


@login_required
@require_GET
def approval_form(request: HttpRequest, pk: int) -> HttpResponse:
    text = visible_text(authority_of(request), pk)
    sections = [
        {"field": name, "label": label, "heading": section_heading(i), "body": getattr(text, name)}
        for i, (name, label) in enumerate(section_choices())
    ]
    context = {
        "text": text,
        # 一、项目名称 heads the form; the other seven follow the amount.
        "sections": sections[1:],
        "title_label": sections[0]["label"],
        "in_words": amount_in_words(text.amount)
        if translation.get_language().startswith("zh")
        else "",
        "stages": stage_rows(text),
    }
    return render(request, "submissions/approval_form.html", context)
