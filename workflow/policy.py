"""Who may see a text, who may act on it, whom it waits for: one source for all three.

Each rule comes twice, as a predicate on one loaded text (`refusal_for`, used by the
service before it acts and by pages to offer buttons) and as a query filter over many
(`visible_texts`, `waiting_for`, used by lists and the inbox), written side by side so that
they cannot drift; tests/test_routing_properties.py checks that they agree. The stages, their
lanes and quorums come from the workflow version the text follows (`workflow.machine`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, JSONField, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _
from guardian.core import ObjectPermissionChecker

from submissions.lifecycle import EDITABLE_STATES, FixedAction, FixedState
from submissions.models import (
    ProjectText,
    ProjectTextGroupObjectPermission,
    ProjectTextUserObjectPermission,
    Revision,
)
from workflow.definitions import StageSpec
from workflow.exceptions import NotPermitted, Refusal, WrongState
from workflow.machine import Catalog, Machine, catalog, machine_for
from workflow.models import AddedSigner, Decision, Route, StageVisit
from workflow.permissions import Authority, Scope, holders

TEXT_READ_PERMS = ("view_projecttext", "change_projecttext")
# Decisions that are not approvals: they end a revision's review.
ENDING_ACTIONS = frozenset({FixedAction.RETURN.value, FixedAction.REJECT.value})
# Roles that see every text of the departments they cover, whatever its stage.
ALWAYS_SEEING_ROLES = ("drafter", "auditor")


@dataclass(frozen=True)
class DecisionFact:
    actor_id: int
    principal_id: int  # whom it counts for: the actor, or whom a delegate acted for
    stage: str
    action: str
    lane: str

    @property
    def approves(self) -> bool:
        return self.action not in ENDING_ACTIONS


@dataclass(frozen=True)
class TextFacts:
    """What the rules need to know about one text: its machine, its current revision's
    authors, decisions and added signers, and the people an `all` lane needs."""

    machine: Machine
    revision: Revision | None
    author_ids: frozenset[int]
    decisions: tuple[DecisionFact, ...] = ()
    added_signer_ids: tuple[int, ...] = ()
    quorums: dict[str, int] = field(default_factory=dict)
    pinned: bool = False
    # Usernames of the people in `decisions` and `added_signer_ids`, when loaded with them.
    names: dict[int, str] = field(default_factory=dict)
    # The user's own grants on this text (codenames), when loaded with the facts.
    granted: frozenset[str] | None = None

    @classmethod
    def of(cls, text: ProjectText, *, known: Catalog | None = None) -> TextFacts:
        route = _route_of(text)
        pinned = route is not None and text.state not in EDITABLE_STATES
        if pinned:
            machine = known.machine(route.version_id) if known else machine_for(route.version_id)
        else:
            # A draft (or a returned text) will follow the version current when submitted.
            machine = (known or catalog()).current
        revision = None
        decisions: tuple[DecisionFact, ...] = ()
        added: tuple[int, ...] = ()
        quorums: dict[str, int] = {}
        if text.revision:
            # With the revision: the quorums of the stage's `all` lanes, fixed as it began
            # and kept on its open visit.
            open_visit = StageVisit.objects.filter(text=text, left_at__isnull=True)
            revision = (
                Revision.objects.filter(text=text, number=text.revision)
                .only("id", "number", "text_id", "submitted_by_id")
                .annotate(
                    open_quorums=Subquery(
                        open_visit.values("quorums")[:1], output_field=JSONField()
                    )
                )
                .first()
            )
            if pinned and revision is not None:
                quorums = revision.open_quorums or {}
            decisions = tuple(
                DecisionFact(actor, on_behalf or actor, stage, action, lane)
                for actor, on_behalf, stage, action, lane in Decision.objects.filter(
                    revision=revision
                ).values_list("actor_id", "on_behalf_of_id", "stage", "action", "lane")
            )
            if machine.stage(text.state) is not None:
                added = tuple(
                    AddedSigner.objects.filter(revision=revision, stage=text.state).values_list(
                        "user_id", flat=True
                    )
                )
        author_ids = frozenset(text.authors.values_list("pk", flat=True))
        return cls(machine, revision, author_ids, decisions, added, quorums, pinned)

    def stage_of(self, text: ProjectText) -> StageSpec | None:
        return self.machine.stage(text.state)

    def approvals_at(self, stage: str) -> list[DecisionFact]:
        return [d for d in self.decisions if d.stage == stage and d.approves]

    def approved_elsewhere(self, user_id: int, stage: str) -> bool:
        """Did `user_id` approve this revision at another stage, for anyone or through anyone?"""
        return any(
            d.approves and d.stage != stage and user_id in (d.actor_id, d.principal_id)
            for d in self.decisions
        )

    @property
    def recused_ids(self) -> frozenset[int]:
        """Nothing on this revision waits for these people: its authors, and whoever
        approved it (at any stage, for themselves or through a delegate)."""
        approvers = {p for d in self.decisions if d.approves for p in (d.actor_id, d.principal_id)}
        return self.author_ids | approvers

    def approved_here(self, user_id: int, stage: str) -> bool:
        return any(user_id in (d.actor_id, d.principal_id) for d in self.approvals_at(stage))

    def quorum(self, lane_role: str, quorum: int | None) -> int:
        return quorum if quorum is not None else self.quorums.get(lane_role, 1)

    def unmet_lanes(self, stage: StageSpec, extra: DecisionFact | None = None) -> list[str]:
        approvals = self.approvals_at(stage.code) + ([extra] if extra else [])
        unmet = []
        for lane in stage.lanes:
            people = {d.principal_id for d in approvals if d.lane == lane.role}
            if len(people) < self.quorum(lane.role, lane.quorum):
                unmet.append(lane.role)
        return unmet

    def pending_signers(self, stage: StageSpec, extra: DecisionFact | None = None) -> list[int]:
        approvals = self.approvals_at(stage.code) + ([extra] if extra else [])
        done = {d.principal_id for d in approvals}
        return [uid for uid in self.added_signer_ids if uid not in done]


def _route_of(text: ProjectText) -> Route | None:
    try:
        return text.route
    except Route.DoesNotExist:
        return None


def may_edit(authority: Authority, text: ProjectText, facts: TextFacts | None = None) -> bool:
    """A drafter of the text's department, or someone granted `change` on this text; never
    an administrator (三员分立)."""
    if authority.administrator:
        return False
    if authority.holds("drafter", text.department_id):
        return True
    user = authority.user
    if not user.is_active:
        return False
    if facts is not None and facts.granted is not None:
        return "change_projecttext" in facts.granted
    if user.is_superuser:
        # guardian passes a superuser everywhere; here the flag grants nothing (三员分立).
        granted = _granted_texts(user, perms=("change_projecttext",))
        return ProjectText.objects.filter(granted, pk=text.pk).exists()
    return ObjectPermissionChecker(user).has_perm("change_projecttext", text)


@dataclass(frozen=True)
class Capacity:
    """In whose name a user acts at a stage: their own, or a delegator's (委托)."""

    principal: AbstractBaseUser
    lanes: tuple[str, ...]  # the stage's lane roles the principal holds for the department
    added_signer: bool
    delegation_id: int | None = None

    @property
    def on_behalf_of(self) -> AbstractBaseUser | None:
        return self.principal if self.delegation_id is not None else None


def capacities(authority: Authority, text: ProjectText, facts: TextFacts) -> list[Capacity]:
    """Every capacity in which the user may act at the text's current stage, own first."""
    stage = facts.stage_of(text)
    if stage is None or not facts.pinned:
        return []
    found = []
    roles = [lane.role for lane in stage.lanes]
    own = tuple(role for role in roles if authority.holds(role, text.department_id))
    signer = authority.user.pk in facts.added_signer_ids
    if own or signer:
        found.append(Capacity(authority.user, own, signer))
    for mandate in authority.mandates:
        lanes = tuple(r for r in roles if mandate.scope(r).covers(text.department_id))
        if lanes:
            found.append(Capacity(mandate.principal, lanes, False, mandate.delegation_id))
    return found


@dataclass(frozen=True)
class Ruling:
    """An action allowed: in which capacity, which lane it counts in, what it completes."""

    capacity: Capacity | None = None
    lane: str = ""
    completes: bool = False


def _sod(authority: Authority, capacity: Capacity, facts: TextFacts, text: ProjectText):
    """Separation of duties for one capacity: binds the actor and whom they act for."""
    people = {authority.user.pk, capacity.principal.pk}
    if people & facts.author_ids:
        return NotPermitted("sod_author", text_id=text.pk)
    return None


def _decided(
    authority: Authority, capacity: Capacity, facts: TextFacts, stage: StageSpec, text: ProjectText
) -> Refusal | None:
    """Nobody approves one revision twice, here or at another stage."""
    for person in {authority.user.pk, capacity.principal.pk}:
        if facts.approved_here(person, stage.code):
            return WrongState("already_approved", text_id=text.pk)
        if facts.approved_elsewhere(person, stage.code):
            return NotPermitted("sod_two_stages", text_id=text.pk)
    return None


def _approval_ruling(
    authority: Authority, text: ProjectText, stage: StageSpec, facts: TextFacts, capacity: Capacity
) -> Ruling | Refusal:
    refusal = _sod(authority, capacity, facts, text)
    if refusal:
        return refusal
    refusal = _decided(authority, capacity, facts, stage, text)
    if refusal:
        return refusal
    unmet = facts.unmet_lanes(stage)
    lane = next((role for role in capacity.lanes if role in unmet), "")
    pending_signer = capacity.added_signer and capacity.principal.pk in facts.pending_signers(stage)
    if not lane and not pending_signer:
        return WrongState("lane_complete", text_id=text.pk, lanes=list(capacity.lanes))
    fact = DecisionFact(authority.user.pk, capacity.principal.pk, stage.code, "", lane)
    completes = not facts.unmet_lanes(stage, fact) and not facts.pending_signers(stage, fact)
    return Ruling(capacity, lane, completes)


def ruling_for(
    authority: Authority,
    text: ProjectText,
    action: str,
    facts: TextFacts,
    *,
    on_behalf_of: AbstractBaseUser | None = None,
) -> Ruling | Refusal:
    """May `action` be taken on `text` now, and how; or why not."""
    if authority.administrator:
        return NotPermitted(
            "administrators_do_not_act", text_id=text.pk, administrator=authority.administrator
        )
    machine = facts.machine
    stage = facts.stage_of(text) if facts.pinned else None
    allowed = _allowed_here(machine, text.state, stage)
    if action not in allowed:
        return WrongState("wrong_state", text_id=text.pk, state=text.state, action=action)
    user = authority.user
    if action == FixedAction.SUBMIT:
        if not may_edit(authority, text, facts):
            return NotPermitted("may_not_submit", text_id=text.pk)
        return Ruling()
    if action == FixedAction.WITHDRAW:
        if facts.revision is None or facts.revision.submitted_by_id != user.pk:
            return NotPermitted("not_the_submitter", text_id=text.pk)
        if facts.decisions:
            return WrongState("already_decided", text_id=text.pk)
        return Ruling()
    found = capacities(authority, text, facts)
    if on_behalf_of is not None:
        found = [c for c in found if c.principal.pk == on_behalf_of.pk]
    if not found:
        return NotPermitted("not_a_stage_reviewer", text_id=text.pk)
    first_refusal: Refusal | None = None
    for capacity in found:
        if action == stage.approve_action:
            ruling = _approval_ruling(authority, text, stage, facts, capacity)
        else:  # return, reject, add_signer: any eligible reviewer of the stage (veto)
            ruling = _sod(authority, capacity, facts, text) or Ruling(capacity)
        if isinstance(ruling, Ruling):
            return ruling
        first_refusal = first_refusal or ruling
    return first_refusal


def refusal_for(
    authority: Authority, text: ProjectText, action: str, facts: TextFacts
) -> Refusal | None:
    ruling = ruling_for(authority, text, action, facts)
    return ruling if isinstance(ruling, Refusal) else None


def _allowed_here(machine: Machine, state: str, stage: StageSpec | None) -> tuple[str, ...]:
    if state in EDITABLE_STATES:
        return (FixedAction.SUBMIT,)
    if stage is None:
        return ()
    return (
        FixedAction.WITHDRAW,
        stage.approve_action,
        FixedAction.RETURN,
        FixedAction.REJECT,
        "add_signer",
    )


def available_actions(
    authority: Authority, text: ProjectText, facts: TextFacts | None = None
) -> list[str]:
    """The actions this user could take on the text now (the version aside). Adding a
    signer is not among them (it names a person: `may_add_signer`)."""
    facts = facts or TextFacts.of(text)
    return [a for a in facts.machine.actions if refusal_for(authority, text, a, facts) is None]


def may_add_signer(authority: Authority, text: ProjectText, facts: TextFacts) -> bool:
    return refusal_for(authority, text, "add_signer", facts) is None


def action_label(action: str, machine: Machine | None = None) -> str:
    """An action's name for people: the fixed ones', or "<stage name>通过"."""
    if action in FixedAction.values:
        return str(FixedAction(action).label)
    if action == "add_signer":
        return _("加签")
    stage = machine.stage_approved_by(action) if machine else None
    if stage is None:
        stage = next(
            (s for m in catalog().machines for s in m.stages if s.approve_action == action),
            None,
        )
    return _("%(stage)s通过") % {"stage": _(stage.name)} if stage else action


# Reaching a lane's quorum ---------------------------------------------------------------


def eligible_people(
    stage: StageSpec,
    text: ProjectText,
    facts: TextFacts,
    *,
    excluded: set[int] = frozenset(),
    held: dict[str, set[int]] | None = None,
) -> dict[str, set[int]]:
    """{lane role: holders who could approve at `stage`}: separation of duties counts.
    `held` is `holders` of the stage's roles, if the caller loaded it already."""
    if held is None:
        held = holders([lane.role for lane in stage.lanes], text.department_id)
    barred = set(facts.author_ids) | set(excluded)
    barred |= {d.principal_id for d in facts.decisions if d.approves and d.stage != stage.code}
    barred |= {d.actor_id for d in facts.decisions if d.approves and d.stage != stage.code}
    return {role: people - barred for role, people in held.items()}


def unreachable_lane(
    stage: StageSpec, eligible: dict[str, set[int]], quorums: dict[str, int]
) -> str | None:
    """The first lane whose quorum cannot be met by distinct people, counting each person in
    one lane only; None when every lane can be met."""
    for lane in stage.lanes:
        if len(eligible[lane.role]) < max(quorums[lane.role], 1):
            return lane.role
    roles = [lane.role for lane in stage.lanes]
    shared = any(eligible[a] & eligible[b] for i, a in enumerate(roles) for b in roles[i + 1 :])
    return _unfilled_lane(roles, eligible, quorums) if shared else None


def _unfilled_lane(
    roles: list[str], eligible: dict[str, set[int]], quorums: dict[str, int]
) -> str | None:
    """Augmenting paths from the lanes' seats to people: the first lane left with an
    empty seat when as many seats as possible are filled."""
    seats = [role for role in roles for _i in range(quorums[role])]
    seat_of: dict[int, int] = {}  # person -> seat

    def seat(index: int, seen: set[int]) -> bool:
        for person in eligible[seats[index]]:
            if person in seen:
                continue
            seen.add(person)
            if person not in seat_of or seat(seat_of[person], seen):
                seat_of[person] = index
                return True
        return False

    for index, role in enumerate(seats):
        if not seat(index, set()):
            return role
    return None


def waiting_people(
    stage: StageSpec,
    text: ProjectText,
    facts: TextFacts,
    *,
    eligible: dict[str, set[int]] | None = None,
    delegates_of: Callable[[set[int], set[str]], set[int]] | None = None,
) -> set[int]:
    """Everyone a text at `stage` waits for (the same rules as `ruling_for`, over people):
    eligible holders of its unmet lanes, added signers yet to sign, and whoever acts for
    them today. Reminders and "who is told" both ask this. `delegates_of` answers from
    delegations loaded already (`StageHolders.delegates_of`)."""
    if delegates_of is None:
        from workflow.permissions import delegates_of

    unmet = facts.unmet_lanes(stage)
    if eligible is None:
        eligible = eligible_people(stage, text, facts)
    done = {d.principal_id for d in facts.approvals_at(stage.code)}
    done |= {d.actor_id for d in facts.approvals_at(stage.code)}
    people = set().union(*(eligible[role] for role in unmet)) if unmet else set()
    people |= set(facts.pending_signers(stage))
    people -= done
    return people | delegates_of(people, set(unmet))


def quorums_at_entry(stage: StageSpec, eligible: dict[str, set[int]]) -> dict[str, int]:
    """The quorum of every lane as the stage begins: `all` is everyone eligible now."""
    return {
        lane.role: lane.quorum if lane.quorum is not None else len(eligible[lane.role])
        for lane in stage.lanes
    }


# The same rules over many texts ---------------------------------------------------------


def _granted_texts(user: AbstractBaseUser, perms: tuple[str, ...] = TEXT_READ_PERMS) -> Q:
    by_user = ProjectTextUserObjectPermission.objects.filter(
        user=user, permission__codename__in=perms
    ).values("content_object_id")
    by_group = ProjectTextGroupObjectPermission.objects.filter(
        group__user=user, permission__codename__in=perms
    ).values("content_object_id")
    return Q(pk__in=by_user) | Q(pk__in=by_group)


@dataclass(frozen=True)
class Shares:
    """The texts one user reaches one by one rather than by role: shared with them (to read,
    to change) and added-signed (at all; now, at the text's current stage and revision).
    Loaded for a list in one query, so that the list's filter is columns an index serves
    (`department_id IN ... OR id IN (a few ids)`) and not an OR of permission subqueries."""

    readable: frozenset[int] = frozenset()
    changeable: frozenset[int] = frozenset()
    signing: frozenset[int] = frozenset()
    signing_now: frozenset[int] = frozenset()

    @classmethod
    def of(cls, user: AbstractBaseUser) -> Shares:
        from django.db.models import CharField, F, Value

        def kind(name: str) -> Value:
            return Value(name, output_field=CharField())

        by_user = ProjectTextUserObjectPermission.objects.filter(
            user=user, permission__codename__in=TEXT_READ_PERMS
        ).values_list("content_object_id", "permission__codename")
        by_group = ProjectTextGroupObjectPermission.objects.filter(
            group__user=user, permission__codename__in=TEXT_READ_PERMS
        ).values_list("content_object_id", "permission__codename")
        signer = AddedSigner.objects.filter(user=user).values_list("text_id", kind("signer"))
        now = AddedSigner.objects.filter(
            user=user, stage=F("text__state"), revision__number=F("text__revision")
        ).values_list("text_id", kind("signer_now"))
        parts = [query.order_by() for query in (by_group, signer, now)]
        rows = list(by_user.order_by().union(*parts, all=True))
        found: dict[str, set[int]] = {}
        for text_id, name in rows:
            found.setdefault(name, set()).add(text_id)
        return cls(
            frozenset(
                found.get("view_projecttext", set()) | found.get("change_projecttext", set())
            ),
            frozenset(found.get("change_projecttext", ())),
            frozenset(found.get("signer", ())),
            frozenset(found.get("signer_now", ())),
        )


def _onward(
    stages: dict[str, frozenset[int]], known: Catalog
) -> tuple[dict[frozenset[str], set[int]], dict[str, frozenset[int]]]:
    """Which texts have entered one of `stages` ({code: versions where it has the lane}),
    as data that `_stages_onward` (a filter) and `may_see` (one loaded text) both read.

    A stage without a condition is never skipped: a text has entered it if its furthest
    stage (`ProjectText.reached`) is that one or one after it; the first part maps each such
    set of stage codes to the versions it holds for. A stage with a `when` may have been
    skipped on the way: for those (rare, the second part) the text waits there now or was
    decided there."""
    groups: dict[frozenset[str], set[int]] = {}
    conditional: dict[str, frozenset[int]] = {}
    for machine in known.machines:
        mine = [s for s in machine.stages if machine.version_id in stages.get(s.code, ())]
        for stage in mine:
            if stage.amount_at_least is not None:
                conditional[stage.code] = stages[stage.code]
        plain = [s for s in mine if s.amount_at_least is None]
        if plain:
            codes = [stage.code for stage in machine.stages]
            onward = frozenset(codes[codes.index(plain[0].code) :])
            groups.setdefault(onward, set()).add(machine.version_id)
    return groups, conditional


def _for_every_version(groups: dict[frozenset[str], set[int]], known: Catalog) -> bool:
    """One set of stages holds for every version: the version need not be named."""
    every = {machine.version_id for machine in known.machines}
    return len(groups) == 1 and next(iter(groups.values())) == every


def _stages_onward(stages: dict[str, frozenset[int]], known: Catalog) -> Q:
    """Texts that have entered one of `stages` (`_onward`): a column filter that
    (reached, updated_at) serves; the version is named only where versions disagree on
    what comes after."""
    groups, conditional = _onward(stages, known)
    if _for_every_version(groups, known):
        condition = Q(reached__in=sorted(next(iter(groups))))
    else:
        condition = Q(pk__in=[])
        for codes, ids in groups.items():
            condition |= Q(reached__in=sorted(codes), route__version_id__in=sorted(ids))
    if conditional:
        decided = Decision.objects.filter(text=OuterRef("pk"), stage__in=sorted(conditional))
        condition |= _at_stages(conditional, known) | Q(Exists(decided))
    return condition


def _has_entered(
    text: ProjectText, stages: dict[str, frozenset[int]], known: Catalog, sighting: Sighting
) -> bool:
    """`_stages_onward` for one loaded text."""
    groups, conditional = _onward(stages, known)
    route = _route_of(text)
    version = route.version_id if route is not None else None
    every = _for_every_version(groups, known)
    if any(text.reached in codes and (every or version in ids) for codes, ids in groups.items()):
        return True
    if sighting.decided_stages & conditional.keys():
        return True
    ids = conditional.get(text.state)
    return ids is not None and (ids == known.versions_with_stage(text.state) or version in ids)


def furthest_reached(text: ProjectText, machine: Machine, entering: StageSpec | None) -> str:
    """`text.reached` once it enters `entering` under `machine` (None: no stage): the
    further of the two; a stage the machine lacks (an earlier version's) gives way."""
    if entering is None:
        return text.reached
    codes = [stage.code for stage in machine.stages]
    if text.reached in codes and codes.index(text.reached) > codes.index(entering.code):
        return text.reached
    return entering.code


def _at_stages(stages: dict[str, frozenset[int]], known: Catalog) -> Q:
    """Texts waiting at one of `stages` ({code: versions where it has the lane}); the
    version is named only where versions disagree, so that (state, department) serves it."""
    plain = [code for code, ids in stages.items() if ids == known.versions_with_stage(code)]
    condition = Q(state__in=plain)
    for code, ids in stages.items():
        if code not in plain:
            condition |= Q(state=code, route__version_id__in=ids)
    return condition


def _seeing_scopes(authority: Authority, known: Catalog) -> list[tuple[str, Scope]]:
    """Each role by which the user may see texts, with its scope: their own roles and those
    of the people they act for today."""
    scoped = [(role, authority.scope(role)) for role in ALWAYS_SEEING_ROLES]
    scoped.extend((role, authority.scope(role)) for role in known.review_roles)
    for mandate in authority.mandates:
        scoped.extend(mandate.scopes.items())
    return scoped


def visible_texts(
    authority: Authority, *, known: Catalog | None = None, shares: Shares | None = None
) -> QuerySet:
    """The texts this user may see, as one query.

    Drafters, auditors and holders of department-scoped review roles see their departments'
    texts; holders of the other review roles see a text once it has reached one of their
    stages; added signers see the texts they were added to; a delegate sees what the people
    they act for see at those stages; anyone sees a text shared with them.

    Lists pass the user's `Shares` (loaded once) so that the filter is columns only; a
    lookup of one text leaves them to subqueries, cheap beside a primary key.
    """
    texts = ProjectText.objects.all()
    user = authority.user
    if not user.is_active:
        return texts.none()
    known = known or catalog()
    if shares is None:
        condition = _granted_texts(user) | Q(
            Exists(AddedSigner.objects.filter(text=OuterRef("pk"), user=user))
        )
    else:
        condition = Q(pk__in=sorted(shares.readable | shares.signing))
    scoped = _seeing_scopes(authority, known)
    for role, scope in scoped:
        if not scope:
            continue
        if role in ALWAYS_SEEING_ROLES or known.role_scopes.get(role) == "department":
            condition |= scope.department_filter()
        else:
            stages = known.stages_with_role(role)
            if stages:
                onward = _stages_onward(stages, known)
                # Every text has a department: "everywhere" adds no condition here, and
                # naming the column would keep a count from reading the `reached` index alone.
                condition |= onward if scope.everywhere else scope.department_filter() & onward
    return texts.filter(condition)


@dataclass(frozen=True)
class Sighting:
    """What decides whether one user may see one loaded text, beside the text's own row
    (loaded with its facts, in the same statement: `workflow.locking`)."""

    granted: frozenset[str]  # the user's read or change grants on the text
    added_signer: bool  # the user was added as a signer of it, at any revision
    decided_stages: frozenset[str]  # stages at which anyone decided on it, at any revision


def may_see(
    authority: Authority, text: ProjectText, sighting: Sighting, *, known: Catalog | None = None
) -> bool:
    """`visible_texts` for one loaded text: the same rules, clause by clause."""
    user = authority.user
    if not user.is_active:
        return False
    if sighting.granted & set(TEXT_READ_PERMS) or sighting.added_signer:
        return True
    known = known or catalog()
    scoped = _seeing_scopes(authority, known)
    for role, scope in scoped:
        if not scope or not scope.covers(text.department_id):
            continue
        if role in ALWAYS_SEEING_ROLES or known.role_scopes.get(role) == "department":
            return True
        stages = known.stages_with_role(role)
        if stages and _has_entered(text, stages, known, sighting):
            return True
    return False


def waiting_by_capacity(
    authority: Authority, *, known: Catalog | None = None, shares: Shares | None = None
) -> list[tuple[AbstractBaseUser, Q]]:
    """For the user and each person they act for today: the filter of texts waiting for an
    approval, return or reject in that capacity (the same rules as `ruling_for`: a lane of
    the text's stage or an added signature, separation of duties kept for both people)."""
    user = authority.user
    known = known or catalog()
    found = []
    capacities_ = [(user, authority.scope)] + [(m.principal, m.scope) for m in authority.mandates]
    for principal, scope_of in capacities_:
        people = {user.pk, principal.pk}
        condition = Q(pk__in=[])
        for role in known.review_roles:
            scope = scope_of(role)
            if scope:
                condition |= scope.department_filter() & _at_stages(
                    known.stages_with_role(role), known
                )
        if principal.pk == user.pk and shares is not None:
            condition |= Q(pk__in=sorted(shares.signing_now))
        elif principal.pk == user.pk:
            condition |= Q(
                Exists(
                    AddedSigner.objects.filter(
                        text=OuterRef("pk"),
                        revision__number=OuterRef("revision"),
                        stage=OuterRef("state"),
                        user=user,
                    )
                )
            )
        found.append((principal, condition & _not_recused(people)))
    return found


def waiting_for(
    authority: Authority, *, known: Catalog | None = None, shares: Shares | None = None
) -> QuerySet:
    """Texts waiting for this user's action, as one query: a review in any capacity
    (`waiting_by_capacity`), and returned texts the user may submit again. With the user's
    `Shares` (the inbox), the filter is columns and per-text lookups only."""
    user = authority.user
    texts = ProjectText.objects.all()
    if not user.is_active:
        return texts.none()
    known = known or catalog()
    waiting = Q(pk__in=[])
    for _principal, condition in waiting_by_capacity(authority, known=known, shares=shares):
        waiting |= condition
    drafter = authority.scope("drafter")
    editable = Q(state=FixedState.RETURNED)
    if drafter:
        waiting |= editable & drafter.department_filter()
    if shares is None:
        waiting |= editable & _granted_change(user)
    elif shares.changeable:
        waiting |= editable & Q(pk__in=sorted(shares.changeable))
    return visible_texts(authority, known=known, shares=shares).filter(waiting)


def acting_for(authority: Authority, text_ids: list[int]) -> dict[int, AbstractBaseUser]:
    """Of `text_ids`, those waiting for the user only as someone's delegate, with whom
    they would act for ("代 X 审批"); one query per delegation, whatever the number of texts."""
    if not authority.mandates or not text_ids:
        return {}
    capacities_ = waiting_by_capacity(authority)
    own = set(
        ProjectText.objects.filter(capacities_[0][1], pk__in=text_ids).values_list("pk", flat=True)
    )
    found: dict[int, AbstractBaseUser] = {}
    for principal, condition in capacities_[1:]:
        for pk in ProjectText.objects.filter(condition, pk__in=text_ids).values_list(
            "pk", flat=True
        ):
            if pk not in own:
                found.setdefault(pk, principal)
    return found


def recusal_column(people: Iterable[int]) -> str:
    """`ProjectText.recused` for these people: each id between commas, so that a person is
    found by `contains` (",17," is not in ",170,")."""
    ids = sorted(set(people))
    return f",{','.join(map(str, ids))}," if ids else ""


def _not_recused(people: set[int]) -> Q:
    """None of `people` wrote the text or approved its current revision (`recused_ids`)."""
    condition = Q()
    for person in sorted(people):
        condition &= ~Q(recused__contains=recusal_column([person]))
    return condition


def _granted_change(user: AbstractBaseUser) -> Q:
    by_user = ProjectTextUserObjectPermission.objects.filter(
        user=user, permission__codename="change_projecttext"
    ).values("content_object_id")
    by_group = ProjectTextGroupObjectPermission.objects.filter(
        group__user=user, permission__codename="change_projecttext"
    ).values("content_object_id")
    return Q(pk__in=by_user) | Q(pk__in=by_group)


def progress(text: ProjectText, facts: TextFacts) -> dict | None:
    """`stage_progress` (DESIGN.md): who approved in each lane, and the added signers."""
    stage = facts.stage_of(text) if facts.pinned else None
    if stage is None:
        return None
    from django.contrib.auth import get_user_model

    approvals = facts.approvals_at(stage.code)
    ids = {d.principal_id for d in approvals} | set(facts.added_signer_ids)
    names = facts.names
    if not ids <= names.keys():
        names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    done = {d.principal_id for d in approvals}
    return {
        "stage": stage.code,
        "lanes": [
            {
                "role": lane.role,
                "quorum": facts.quorum(lane.role, lane.quorum),
                "approved_by": [names[d.principal_id] for d in approvals if d.lane == lane.role],
            }
            for lane in stage.lanes
        ],
        "added_signers": [
            {"user": names[uid], "approved": uid in done} for uid in facts.added_signer_ids
        ],
    }
