"""The state machine of one workflow version, derived from its document.

Everything about a stage (its role lanes, quorum, condition, due days, supervisor, the
states and transitions it adds) is read from here; nothing else in the code names a stage.
A version never changes once loaded, so a process builds each machine once.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any

from submissions.lifecycle import FixedAction, FixedState
from workflow.definitions import Definition, LaneSpec, Requirement, RoleSpec, StageSpec

BUILTIN_CODE = "budget-text"


def definition_from_document(document: dict) -> Definition:
    """The definition a stored (already validated, canonical) document describes."""
    stages = []
    for stage in document["stages"]:
        when = stage.get("when") or {}
        amount = when.get("amount_at_least")
        stages.append(
            StageSpec(
                code=stage["code"],
                name=stage["name"],
                approve_action=stage["approve_action"],
                lanes=tuple(
                    LaneSpec(lane["role"], None if lane["quorum"] == "all" else lane["quorum"])
                    for lane in stage["lanes"]
                ),
                amount_at_least=Decimal(amount) if amount is not None else None,
                due_days=stage.get("due_days"),
                supervisor_role=stage.get("supervisor_role", ""),
            )
        )
    roles = tuple(RoleSpec(r["code"], r["name"], r["scope"]) for r in document.get("roles", ()))
    requires = tuple(
        Requirement(item["table"], tuple((item.get("when") or {}).get("category", ())))
        for item in document.get("submit_requires", ())
    )
    return Definition(document["code"], document["name"], tuple(stages), roles, requires)


@dataclass(frozen=True)
class Passage:
    """Where an approval that completes a stage leads: the next stage that applies (None:
    approved) and the conditional stages passed over on the way."""

    to_state: str
    stage: StageSpec | None
    skipped: tuple[str, ...]


@dataclass(frozen=True)
class Machine:
    version_id: int
    number: int
    definition: Definition

    @property
    def code(self) -> str:
        return self.definition.code

    @cached_property
    def stages(self) -> tuple[StageSpec, ...]:
        return self.definition.stages

    @cached_property
    def _by_code(self) -> dict[str, StageSpec]:
        return {stage.code: stage for stage in self.stages}

    @cached_property
    def _by_action(self) -> dict[str, StageSpec]:
        return {stage.approve_action: stage for stage in self.stages}

    def stage(self, code: str) -> StageSpec | None:
        return self._by_code.get(code)

    def stage_approved_by(self, action: str) -> StageSpec | None:
        return self._by_action.get(action)

    @property
    def approve_actions(self) -> tuple[str, ...]:
        return tuple(self._by_action)

    @property
    def actions(self) -> tuple[str, ...]:
        """Every action a text under this version can be offered, in the order buttons show."""
        return (
            FixedAction.SUBMIT,
            FixedAction.WITHDRAW,
            *self.approve_actions,
            FixedAction.RETURN,
            FixedAction.REJECT,
        )

    def approves_finally(self, action: str) -> bool:
        """Is `action` the last stage's approval (the one that makes a text approved)?"""
        return bool(self.stages) and self.stages[-1].approve_action == action

    def roles_of(self, stage: StageSpec) -> tuple[str, ...]:
        return tuple(lane.role for lane in stage.lanes)

    @staticmethod
    def applies(stage: StageSpec, amount: Decimal) -> bool:
        return stage.amount_at_least is None or amount >= stage.amount_at_least

    def _onward(self, after: int, amount: Decimal) -> Passage:
        skipped = []
        for stage in self.stages[after:]:
            if self.applies(stage, amount):
                return Passage(stage.code, stage, tuple(skipped))
            skipped.append(stage.code)
        return Passage(FixedState.APPROVED, None, tuple(skipped))

    def entry(self, amount: Decimal) -> Passage:
        """The stage a text of `amount` enters when it is submitted."""
        return self._onward(0, amount)

    def after(self, stage: StageSpec, amount: Decimal) -> Passage:
        """Where a text of `amount` goes when `stage` is complete."""
        return self._onward(self.stages.index(stage) + 1, amount)

    @cached_property
    def transitions(self) -> frozenset[tuple[str, str]]:
        """Every (from, to) state change this version allows, whatever the amount: what the
        database trigger permits for texts pinned to it."""
        pairs: set[tuple[str, str]] = set()
        codes = [stage.code for stage in self.stages]
        # A stage is reachable from position i if every stage in between can be skipped.
        for index in range(len(codes) + 1):
            sources = [FixedState.DRAFT, FixedState.RETURNED] if index == 0 else [codes[index - 1]]
            for target in self._reachable_from(index):
                pairs.update((source, target) for source in sources)
        for code in codes:
            # Withdraw: usually from the stage a submit entered, but a text moved to this
            # version by migrate_workflow may wait undecided at any stage.
            pairs.add((code, FixedState.DRAFT))
            pairs.add((code, FixedState.RETURNED))
            pairs.add((code, FixedState.REJECTED))
        return frozenset((str(a), str(b)) for a, b in pairs)

    def _reachable_from(self, index: int) -> list[str]:
        reachable = []
        for stage in self.stages[index:]:
            reachable.append(stage.code)
            if stage.amount_at_least is None:
                return reachable
        reachable.append(FixedState.APPROVED)
        return reachable


@lru_cache(maxsize=256)
def _machine(version_id: int) -> Machine:
    from workflow.models import WorkflowVersion

    version = WorkflowVersion.objects.get(pk=version_id)
    return Machine(version.pk, version.number, definition_from_document(version.document))


def machine_for(version_id: int) -> Machine:
    """The machine of a stored version (cached: versions never change)."""
    return _machine(version_id)


@dataclass(frozen=True)
class Catalog:
    """Every stored version's machine, and every role the built-ins and the documents name."""

    machines: tuple[Machine, ...]

    def machine(self, version_id: int) -> Machine:
        for machine in self.machines:
            if machine.version_id == version_id:
                return machine
        return machine_for(version_id)

    @cached_property
    def current(self) -> Machine:
        return self.machines[-1]

    @cached_property
    def declared_roles(self) -> dict[str, RoleSpec]:
        roles: dict[str, RoleSpec] = {}
        for machine in self.machines:
            for role in machine.definition.roles:
                roles[role.code] = role
        return roles

    @cached_property
    def role_scopes(self) -> dict[str, str]:
        """Every role's grant scope ("department" or "global")."""
        from workflow.states import BUILTIN_ROLE_SCOPES

        scopes = {str(code): scope for code, scope in BUILTIN_ROLE_SCOPES.items()}
        scopes.update({code: role.scope for code, role in self.declared_roles.items()})
        return scopes

    @cached_property
    def review_roles(self) -> tuple[str, ...]:
        """Roles some stage's lane names, in a stable order."""
        seen: dict[str, None] = {}
        for machine in self.machines:
            for stage in machine.stages:
                for lane in stage.lanes:
                    seen.setdefault(lane.role, None)
        return tuple(seen)

    def stages_with_role(self, role: str) -> dict[str, frozenset[int]]:
        """{stage code: versions in which that stage has a lane for `role`}."""
        found: dict[str, set[int]] = {}
        for machine in self.machines:
            for stage in machine.stages:
                if role in machine.roles_of(stage):
                    found.setdefault(stage.code, set()).add(machine.version_id)
        return {code: frozenset(ids) for code, ids in found.items()}

    def versions_with_stage(self, code: str) -> frozenset[int]:
        return frozenset(m.version_id for m in self.machines if m.stage(code) is not None)

    def approve_action_at(self, state: str, version_id: int | None) -> str | None:
        """The approve action of the stage a text waits at, or None if it waits at none."""
        machine = self.machine(version_id) if version_id else self.current
        stage = machine.stage(state)
        return stage.approve_action if stage else None

    def stage_name(self, code: str, version_id: int | None = None) -> str:
        """A stage's name, from the text's version if known, else the newest that has it."""
        if version_id is not None:
            stage = self.machine(version_id).stage(code)
            if stage is not None:
                return stage.name
        for machine in reversed(self.machines):
            stage = machine.stage(code)
            if stage is not None:
                return stage.name
        return code

    @cached_property
    def all_states(self) -> tuple[str, ...]:
        states: dict[str, None] = {str(FixedState.DRAFT): None}
        for machine in self.machines:
            for stage in machine.stages:
                states.setdefault(stage.code, None)
        for state in (FixedState.APPROVED, FixedState.RETURNED, FixedState.REJECTED):
            states.setdefault(str(state), None)
        return tuple(states)

    @cached_property
    def approve_actions(self) -> frozenset[str]:
        return frozenset(a for m in self.machines for a in m.approve_actions)


# Within one request the versions are read once (`catalog_per_request`); a version loaded
# in another process is seen by the next request.
_request_catalog: ContextVar[Catalog | None] = ContextVar("request_catalog", default=None)


def catalog() -> Catalog:
    """All versions (one query for their ids, once a request; the machines are cached)."""
    known = _request_catalog.get()
    if known is not None:
        return known
    from workflow.models import WorkflowVersion

    ids = list(WorkflowVersion.objects.order_by("id").values_list("pk", flat=True))
    if not ids:
        from workflow import builtin

        builtin.install()
        ids = list(WorkflowVersion.objects.order_by("id").values_list("pk", flat=True))
    known = Catalog(tuple(machine_for(pk) for pk in ids))
    if _in_request.get():
        _request_catalog.set(known)
    return known


_in_request: ContextVar[bool] = ContextVar("in_request", default=False)


def catalog_per_request(get_response: Callable) -> Callable:
    """Middleware: read the workflow versions at most once per request."""

    def middleware(request: Any) -> Any:
        flag = _in_request.set(True)
        known = _request_catalog.set(None)
        try:
            return get_response(request)
        finally:
            _request_catalog.reset(known)
            _in_request.reset(flag)

    return middleware


def forget_machines() -> None:
    """Drop cached machines and this request's catalog: called when a version is stored
    (a test database may also reuse an id that a rolled-back version had)."""
    _machine.cache_clear()
    _request_catalog.set(None)


def version_of(text: Any) -> int | None:
    """The workflow version a text is pinned to (its route), None before its first submit."""
    from django.core.exceptions import ObjectDoesNotExist

    try:
        return text.route.version_id
    except ObjectDoesNotExist:
        return None


def machine_of(text: Any) -> Machine:
    """The machine of the version the text follows or last followed; for a text never
    submitted, the current one."""
    version_id = version_of(text)
    known = catalog()
    return known.machine(version_id) if version_id else known.current
