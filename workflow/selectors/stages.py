"""Where one text is in its chain: the stage bar at the top of its page.

Read from the workflow version the text is pinned to (a draft that never was submitted:
the current one), the decisions of its current revision, the approval events that name the
stages they skipped, its open stage visit (the due date) and whom its stage waits for
(`workflow.policy.waiting_people`). A fixed number of queries whatever the number of
stages, lanes or people. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from submissions.lifecycle import FixedAction, FixedState
from submissions.models import ProjectText, Revision
from workflow.definitions import StageSpec
from workflow.machine import Machine, machine_of
from workflow.models import AuditEvent, Decision, Delegation, Outcome, StageVisit
from workflow.policy import ENDING_ACTIONS, TextFacts, progress, waiting_people
from workflow.vocabulary import role_label, state_label

# What each status of a step is called, for the reader (the colour is `kind`).
STATUS_LABELS = {
    "done": gettext_lazy("已完成"),
    "current": gettext_lazy("进行中"),
    "upcoming": gettext_lazy("未开始"),
    "skipped": gettext_lazy("已跳过"),
    "not_applicable": gettext_lazy("不经过"),
    "returned": gettext_lazy("已退回"),
    "rejected": gettext_lazy("不予立项"),
}


@dataclass(frozen=True)
class Act:
    """One decision (or the submit) shown at a step: who, for whom, what, when."""

    name: str
    on_behalf_of: str
    action: str
    at: datetime | None
    comment: str = ""


@dataclass(frozen=True)
class Person:
    """Someone the current step waits for; `on_behalf_of`: whom they act for (代 X)."""

    name: str
    on_behalf_of: str = ""


@dataclass
class Step:
    code: str
    name: str
    status: str  # a key of STATUS_LABELS
    kind: str  # the state colour: draft, review, returned, approved, rejected
    current: bool = False
    acts: list[Act] = field(default_factory=list)
    waiting: list[Person] = field(default_factory=list)
    due_at: datetime | None = None
    overdue: bool = False
    lanes: list[dict[str, Any]] = field(default_factory=list)
    added_signers: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])


@dataclass
class StageBar:
    state: str
    kind: str
    steps: list[Step]

    @property
    def current(self) -> Step | None:
        return next((step for step in self.steps if step.current), None)


def _name(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _kind(state: str) -> str:
    return state if state in FixedState.values else "review"


def _act(decision: Decision) -> Act:
    return Act(
        _name(decision.actor),
        _name(decision.on_behalf_of),
        decision.action,
        decision.decided_at,
        decision.comment,
    )


def _skipped_codes(text: ProjectText) -> set[str]:
    """The stages the approvals and the submit of the current revision passed over."""
    found: set[str] = set()
    details = AuditEvent.objects.filter(
        text=text, revision=text.revision, outcome=Outcome.OK, detail__has_key="skipped"
    ).values_list("detail", flat=True)
    for detail in details:
        found.update(detail.get("skipped") or ())
    return found


def _not_applicable_note(stage: StageSpec) -> str:
    amount = _("%(amount)s元") % {"amount": f"{stage.amount_at_least:,.2f}"}
    return _("金额未达 %(amount)s，不经过此阶段") % {"amount": amount}


def _waiting(stage: StageSpec, text: ProjectText, facts: TextFacts) -> list[Person]:
    """Whom the stage waits for, by name; a delegate as 「X（代 Y）」."""
    people = waiting_people(stage, text, facts)
    if not people:
        return []
    roles = {lane.role for lane in stage.lanes}
    acting_for: dict[int, list[str]] = {}
    for delegation in (
        Delegation.objects.active(timezone.localdate())
        .filter(delegate_id__in=people, delegator_id__in=people)
        .select_related("delegator")
    ):
        # Only a delegation of a role this stage asks for makes its delegate act "代 Y" here.
        if roles & set(delegation.roles):
            acting_for.setdefault(delegation.delegate_id, []).append(_name(delegation.delegator))
    users = get_user_model().objects.filter(pk__in=people).order_by("username")
    found = []
    for user in users:
        principals = acting_for.get(user.pk)
        if principals:
            found.extend(Person(_name(user), principal) for principal in principals)
        else:
            found.append(Person(_name(user)))
    return found


def _lanes(text: ProjectText, facts: TextFacts) -> tuple[list[dict], list[dict]]:
    """The current stage's lanes (role, 或签/会签, who approved, how many still) and its
    added signers (DESIGN.md `stage_progress`, in the reader's words)."""
    stage_progress = progress(text, facts)
    if stage_progress is None:
        return [], []
    lanes = []
    for lane in stage_progress["lanes"]:
        quorum, approved = lane["quorum"], lane["approved_by"]
        lanes.append(
            {
                **lane,
                "role_name": role_label(lane["role"]),
                "kind": _("或签") if quorum == 1 else _("会签 %(n)d 人") % {"n": quorum},
                "remaining": max(quorum - len(approved), 0),
            }
        )
    return lanes, stage_progress["added_signers"]


def stage_bar(text: ProjectText, facts: TextFacts | None = None) -> StageBar:
    """The text's chain from draft to approval, each step done, current, to come, skipped,
    or where it was returned or rejected; who acted at each and when, whom the current
    one waits for and by when. `facts` if the caller has them already."""
    facts = facts or TextFacts.of(text)
    machine = machine_of(text)
    state = text.state
    amount = Decimal(text.amount or 0)
    revision: Revision | None = None
    decisions: list[Decision] = []
    skipped: set[str] = set()
    if text.revision:
        revision = (
            Revision.objects.filter(text=text, number=text.revision)
            .select_related("submitted_by")
            .first()
        )
        decisions = list(
            Decision.objects.filter(revision=revision).select_related("actor", "on_behalf_of")
        )
        skipped = _skipped_codes(text)
    ending = next((d for d in reversed(decisions) if d.action in ENDING_ACTIONS), None)
    codes = [stage.code for stage in machine.stages]
    if state == FixedState.APPROVED:
        reached = len(codes)
    elif state in codes:
        reached = codes.index(state)
    elif state in (FixedState.RETURNED, FixedState.REJECTED) and ending and ending.stage in codes:
        reached = codes.index(ending.stage)
    else:
        reached = -1  # a draft: nothing reached yet

    steps = [_draft_step(text, state, revision)]
    for index, stage in enumerate(machine.stages):
        step = _stage_step(text, facts, machine, stage, index, reached, ending, decisions, skipped)
        if step.status in ("not_applicable", "skipped") and not machine.applies(stage, amount):
            step.note = _not_applicable_note(stage)
        steps.append(step)
    steps.append(_end_step(state))
    if not any(step.current for step in steps):
        steps[0].current = True
    return StageBar(state, _kind(state), steps)


def _draft_step(text: ProjectText, state: str, revision: Revision | None) -> Step:
    if state in (FixedState.DRAFT, FixedState.RETURNED):
        step = Step(
            "draft",
            _("编制"),
            "current",
            _kind(state),
            current=True,
            waiting=[Person(_name(text.created_by))],
        )
        if state == FixedState.RETURNED:
            step.status = "returned"
            step.note = _("已退回编制人修改，修改后重新提交")
        return step
    acts = []
    if revision is not None:
        acts.append(
            Act(_name(revision.submitted_by), "", FixedAction.SUBMIT, revision.submitted_at)
        )
    return Step("draft", _("编制"), "done", "approved", acts=acts)


def _stage_step(
    text: ProjectText,
    facts: TextFacts,
    machine: Machine,
    stage: StageSpec,
    index: int,
    reached: int,
    ending: Decision | None,
    decisions: list[Decision],
    skipped: set[str],
) -> Step:
    name = state_label(stage.code, machine.version_id)
    acts = [_act(d) for d in decisions if d.stage == stage.code]
    applies = Machine.applies(stage, Decimal(text.amount or 0))
    if index < reached:
        if stage.code in skipped or (not acts and not applies):
            return Step(stage.code, name, "skipped", "draft")
        return Step(stage.code, name, "done", "approved", acts=acts)
    if index == reached and text.state == stage.code:
        step = Step(stage.code, name, "current", "review", current=True, acts=acts)
        step.waiting = _waiting(stage, text, facts)
        step.lanes, step.added_signers = _lanes(text, facts)
        visit = (
            StageVisit.objects.filter(text=text, left_at__isnull=True, stage=stage.code)
            .only("due_at")
            .first()
        )
        if visit is not None:
            step.due_at = visit.due_at
            step.overdue = visit.due_at < timezone.now()
        return step
    if index == reached and ending is not None:
        status = "returned" if ending.action == FixedAction.RETURN else "rejected"
        return Step(stage.code, name, status, status, acts=acts)
    if not applies:
        return Step(stage.code, name, "not_applicable", "draft")
    return Step(stage.code, name, "upcoming", "draft")


def _end_step(state: str) -> Step:
    if state == FixedState.APPROVED:
        return Step("approved", state_label(FixedState.APPROVED), "done", "approved", current=True)
    if state == FixedState.REJECTED:
        return Step("rejected", state_label(FixedState.REJECTED), "rejected", "rejected", True)
    return Step("approved", state_label(FixedState.APPROVED), "upcoming", "draft")


def last_change(text: ProjectText) -> AuditEvent | None:
    """The newest successful event of the text: who moved it last, how and when (what a
    stale page tells its reader changed)."""
    return AuditEvent.objects.filter(text=text, outcome=Outcome.OK).order_by("-at", "-id").first()
