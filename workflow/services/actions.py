"""The workflow actions: submit, withdraw, each stage's approval, return and reject, and
adding a signer (加签). Where a text goes is its workflow version's to say (`machine`);
who may take an action, `policy`."""

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from submissions.content import (
    CONTENT_FIELDS,
    SECTION_FIELDS,
    check_for_submit,
)
from submissions.lifecycle import EDITABLE_STATES, FixedAction, FixedState
from submissions.models import ProjectText, Revision
from submissions.text_rules import unstorable_reason
from workflow import audit, deadlines, prepared
from workflow import outbox as notifications
from workflow.definitions import StageSpec
from workflow.exceptions import InvalidInput, WrongState
from workflow.locking import has_route
from workflow.machine import Catalog, catalog
from workflow.models import AddedSigner, Decision, Route
from workflow.permissions import Authority, StageHolders, stage_holders
from workflow.policy import (
    DecisionFact,
    Ruling,
    TextFacts,
    eligible_people,
    furthest_reached,
    quorums_at_entry,
    recusal_column,
    ruling_for,
    unreachable_lane,
    waiting_people,
)
from workflow.services._shared import (
    check_version,
    lock_visible,
    recording_refusals,
    require_version,
)
from workflow.states import ACTIONS_NEEDING_REASON

COMMENT_MAX_CHARS = 5_000


def perform_action(
    *,
    actor: AbstractBaseUser,
    text_id: Any,
    action: str,
    version: Any,
    comment: Any = "",
    section: Any = "",
    on_behalf_of: Any = None,
    authority: Authority | None = None,
) -> ProjectText:
    """Take one workflow action (submit, withdraw, a stage's approval, return, reject) on a
    text. `on_behalf_of` (a username) picks whom a delegate acts for when they act for
    several; by default their own role comes first, then whoever still needs to sign.
    `authority` is the actor's, if the caller has loaded it already."""
    if action == FixedAction.SUBMIT or action in FixedAction.values:
        action = str(action)
    elif not isinstance(action, str) or action not in catalog().approve_actions:
        raise InvalidInput({"action": [_("未知操作：%(a)s") % {"a": str(action)[:64]}]})
    version = require_version(version)
    comment = _clean_comment(comment, required=action in ACTIONS_NEEDING_REASON)
    section = _clean_section(section)
    principal = _principal(on_behalf_of)
    if authority is None or authority.user.pk != actor.pk:
        authority = Authority.of(actor)
    known = catalog()
    return recording_refusals(
        action,
        lambda: _perform_action(
            authority, text_id, action, version, comment, section, principal, known
        ),
        actor=actor,
        text_id=text_id,
        version=version,
        comment=comment,
    )


def _principal(username: Any, field: str = "on_behalf_of") -> AbstractBaseUser | None:
    """The user a request names by username (whom to act for, whom to add), or None."""
    if username in (None, ""):
        return None
    user = (
        get_user_model().objects.filter(username=username).first()
        if isinstance(username, str)
        else None
    )
    if user is None:
        raise InvalidInput({field: [_("没有这个用户。")]})
    return user


def _clean_comment(comment: Any, *, required: bool) -> str:
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        raise InvalidInput({"comment": [_("应为文本。")]})
    comment = comment.strip()
    if required and not comment:
        raise InvalidInput({"comment": [_("退回或不予立项必须填写理由。")]})
    if len(comment) > COMMENT_MAX_CHARS:
        raise InvalidInput({"comment": [_("不能超过 %(n)d 个字符。") % {"n": COMMENT_MAX_CHARS}]})
    reason = unstorable_reason(comment)
    if reason:
        raise InvalidInput({"comment": [reason]})
    return comment


def _clean_section(section: Any) -> str:
    if section in (None, ""):
        return ""
    if section not in SECTION_FIELDS:
        raise InvalidInput(
            {"section": [_("应为以下之一：%(names)s") % {"names": ", ".join(SECTION_FIELDS)}]}
        )
    return section


@transaction.atomic(durable=True)
def _perform_action(
    authority: Authority,
    text_id: Any,
    action: str,
    version: int,
    comment: str,
    section: str,
    principal: AbstractBaseUser | None,
    known: Catalog,
) -> ProjectText:
    """One action, in as few statements as a reader can count (issue 12): the lock; the
    facts, read under it; the holders of the stage entered, with who acts for them; then
    only writes: the decision or the revision, the route if it changed, the text, the
    audit head and event, the stage visits, the outbox rows in one insert."""
    actor = authority.user
    locked = lock_visible(authority, text_id, known=known)
    text, facts = locked.text, locked.facts
    ruling = ruling_for(authority, text, action, facts, on_behalf_of=principal)
    if not isinstance(ruling, Ruling):
        raise ruling
    check_version(text, version)

    from_state = text.state
    now = timezone.now()
    revision = facts.revision
    machine = facts.machine
    stage = facts.stage_of(text) if facts.pinned else None
    detail: dict[str, Any] = {"section": section} if section else {}
    entering: StageSpec | None = None
    reach = Reach()
    decision: DecisionFact | None = None
    if action == FixedAction.SUBMIT:
        check_for_submit(
            {name: getattr(text, name) for name in CONTENT_FIELDS},
            required_tables=machine.definition.required_tables(text.category),
        )
        passage = machine.entry(Decimal(text.amount))
        entering = passage.stage
        # The submitter becomes an author of the revision about to be frozen.
        authors = facts.author_ids | {actor.pk}
        facts = TextFacts(machine, None, authors, granted=facts.granted)
        reach = _check_reachable(text, entering, facts, set())
        revision = _freeze_revision(text, actor, now)
        if actor.pk not in locked.facts.author_ids:
            text.authors.add(actor)
        _pin(text, machine.version_id)
        to_state, skipped = passage.to_state, passage.skipped
    elif action == FixedAction.WITHDRAW:
        to_state, skipped = FixedState.DRAFT, ()
    elif action in (FixedAction.RETURN, FixedAction.REJECT):
        to_state, skipped = (
            (FixedState.RETURNED if action == FixedAction.RETURN else FixedState.REJECTED),
            (),
        )
    else:  # the stage's approval
        to_state, skipped = from_state, ()
        detail["lane"] = ruling.lane
        if ruling.completes:
            passage = machine.after(stage, Decimal(text.amount))
            entering = passage.stage
            reach = _check_reachable(
                text, entering, facts, {actor.pk, ruling.capacity.principal.pk}
            )
            to_state, skipped = passage.to_state, passage.skipped
    if skipped:
        detail["skipped"] = list(skipped)

    capacity = ruling.capacity
    on_behalf_of = capacity.on_behalf_of if capacity else None
    if on_behalf_of is not None:
        detail["on_behalf_of"] = on_behalf_of.get_username()
    if action not in (FixedAction.SUBMIT, FixedAction.WITHDRAW):
        decided = Decision(
            text=text,
            revision=revision,
            stage=from_state,
            action=action,
            actor=actor,
            on_behalf_of=on_behalf_of,
            lane=ruling.lane,
            comment=comment,
            section=section,
            decided_at=now,
        )
        prepared.insert(decided)
        counted_for = capacity.principal if capacity else actor
        decision = DecisionFact(actor.pk, counted_for.pk, from_state, action, ruling.lane)
    moved = to_state != from_state
    if moved:
        text.move_to(to_state)
    text.workflow_facts = _facts_after(
        text, facts, known, revision, decision, moved, capacity, actor, reach
    )
    recused = recusal_column(text.workflow_facts.recused_ids)
    if moved:
        text.version += 1
        text.updated_at = text.entered_state_at = now
        text.reached = furthest_reached(text, machine, entering)
        text.recused = recused
        _write(text, MOVE_FIELDS)
    elif recused != text.recused:
        # An approval that leaves the text at its stage (a quorum not met yet).
        text.recused = recused
        _write(text, ("recused",))
    audit.record_for_text(
        text,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=text.state,
        revision=text.revision,
        comment=comment,
        detail=detail or None,
        head=locked.chain_head,
    )
    if moved:
        # A draft or returned text has no open visit to close.
        leaving = from_state not in EDITABLE_STATES
        deadlines.move(
            text, now, entering, entered=locked.db_now, leaving=leaving, quorums=reach.quorums
        )
    notifications.queue(
        kind=action,
        text=text,
        actor=actor,
        on_behalf_of=on_behalf_of,
        recipient_ids=_told_of(action, text, facts, entering, reach, moved),
        comment=comment,
        stage=entering.code if entering else "",
    )
    return text


# What an action that moves a text writes on its row.
MOVE_FIELDS = (
    "state",
    "version",
    "revision",
    "updated_at",
    "entered_state_at",
    "reached",
    "recused",
)


def _write(text: ProjectText, names: tuple[str, ...]) -> None:
    """`text.save(update_fields=names)` on the row the action holds locked, by a statement
    written once and prepared (the ORM's took longer to build than to run). No receiver
    listens to a text's saving; one that did would have to be called here."""
    prepared.update(ProjectText, {name: getattr(text, name) for name in names}, pk=text.pk)


def _facts_after(
    text: ProjectText,
    facts: TextFacts,
    known: Catalog,
    revision: Revision | None,
    decision: DecisionFact | None,
    moved: bool,
    capacity: Any,
    actor: AbstractBaseUser,
    reach: "Reach",
) -> TextFacts:
    """The text's facts as the action left them, worked out from what it loaded and wrote,
    so that the answer (available actions, stage progress) needs no reload."""
    route = text.route if has_route(text) else None
    pinned = route is not None and text.state not in EDITABLE_STATES
    decisions = facts.decisions if revision is facts.revision else ()
    names = dict(facts.names)
    if decision is not None:
        decisions = (*decisions, decision)
        principal = capacity.principal if capacity else actor
        names[principal.pk] = principal.get_username()
    return TextFacts(
        facts.machine if pinned else known.current,
        revision,
        facts.author_ids,
        decisions,
        () if moved else facts.added_signer_ids,
        (reach.quorums if moved else facts.quorums) if pinned else {},
        pinned,
        names,
        facts.granted,
    )


def _pin(text: ProjectText, version_id: int) -> None:
    """The version a submitted text follows until it is returned or withdrawn; written
    only when it changes."""
    try:
        route = text.route
    except ObjectDoesNotExist:
        text.route = Route.objects.create(text=text, version_id=version_id)
        return
    if route.version_id == version_id:
        return
    route.version_id = version_id
    route.save(update_fields=["version"])


@dataclass(frozen=True)
class Reach:
    """Who could act at the stage being entered, its `all` lanes' quorums as it begins, and
    the delegations in force for its roles (loaded with the holders, in one statement)."""

    eligible: dict[str, set[int]] = field(default_factory=dict)
    quorums: dict[str, int] = field(default_factory=dict)
    holders: StageHolders | None = None


def _check_reachable(
    text: ProjectText, stage: StageSpec | None, facts: TextFacts, excluded: set[int]
) -> Reach:
    """Refuse (409, naming the lane) to enter a stage whose quorum cannot be met; else who
    is eligible in each lane, and the quorums of its `all` lanes as it begins."""
    if stage is None:
        return Reach()
    held = stage_holders(
        [lane.role for lane in stage.lanes],
        text.department_id,
        delegations_on=timezone.localdate(),
    )
    eligible = eligible_people(stage, text, facts, excluded=excluded, held=held.held)
    quorums = quorums_at_entry(stage, eligible)
    lane = unreachable_lane(stage, eligible, quorums)
    if lane is not None:
        raise WrongState(
            "quorum_unreachable",
            text_id=text.pk,
            stage=stage.code,
            lane=lane,
            need=max(quorums[lane], 1),
            have=len(eligible[lane]),
        )
    return Reach(
        eligible,
        {lane.role: quorums[lane.role] for lane in stage.lanes if lane.quorum is None},
        held,
    )


def _told_of(
    action: str,
    text: ProjectText,
    facts: TextFacts,
    entering: StageSpec | None,
    reach: Reach,
    moved: bool,
) -> set[int]:
    """Who learns of an action (DESIGN.md, "Notifications"); the actor is left out later.

    Entering a stage: everyone who could act there (and whoever acts for them); a text that
    is approved, returned or rejected: its drafter and everyone who acted on the revision.
    """
    if entering is not None:
        # Nobody has decided at the stage being entered: every lane is open.
        fresh = TextFacts(facts.machine, None, facts.author_ids)
        return waiting_people(
            entering,
            text,
            fresh,
            eligible=reach.eligible,
            delegates_of=reach.holders.delegates_of if reach.holders else None,
        )
    if moved and action != FixedAction.WITHDRAW:
        acted = {d.actor_id for d in facts.decisions} | {d.principal_id for d in facts.decisions}
        if facts.revision is not None:
            acted.add(facts.revision.submitted_by_id)
        return {text.created_by_id, *acted}
    return set()


def _freeze_revision(text: ProjectText, actor: AbstractBaseUser, now) -> Revision:
    text.revision += 1
    return Revision.objects.create(
        text=text,
        number=text.revision,
        submitted_by=actor,
        submitted_at=now,
        **{name: getattr(text, name) for name in CONTENT_FIELDS},
    )


def add_signer(
    *,
    actor: AbstractBaseUser,
    text_id: Any,
    version: Any,
    user: Any,
    comment: Any = "",
    authority: Authority | None = None,
) -> ProjectText:
    """加签: make `user` (a username) a required approver of the text's current stage.
    `authority` is the actor's, if the caller has loaded it already."""
    version = require_version(version)
    comment = _clean_comment(comment, required=False)
    signer = _principal(user, "user")
    if signer is None:
        raise InvalidInput({"user": [_("请指定加签人。")]})
    if authority is None or authority.user.pk != actor.pk:
        authority = Authority.of(actor)
    # Roles do not depend on the text: read before its transaction, not inside it.
    signer_administers = bool(Authority.of(signer).administrator)
    known = catalog()
    return recording_refusals(
        "add_signer",
        lambda: _add_signer(
            authority, text_id, version, signer, signer_administers, comment, known
        ),
        actor=actor,
        text_id=text_id,
        version=version,
        comment=comment,
    )


@transaction.atomic(durable=True)
def _add_signer(
    authority: Authority,
    text_id: Any,
    version: int,
    signer: AbstractBaseUser,
    signer_administers: bool,
    comment: str,
    known: Catalog,
) -> ProjectText:
    actor = authority.user
    locked = lock_visible(authority, text_id, known=known)
    text, facts = locked.text, locked.facts
    ruling = ruling_for(authority, text, "add_signer", facts)
    if not isinstance(ruling, Ruling):
        raise ruling
    check_version(text, version)
    stage = facts.stage_of(text)
    problem = None
    if not signer.is_active:
        problem = _("该用户已停用。")
    elif signer.pk == actor.pk:
        problem = _("不能给自己加签。")
    elif signer.pk in facts.author_ids:
        problem = _("职责分离：该用户编制或提交过此文本，不能审核它。")
    elif facts.approved_elsewhere(signer.pk, stage.code):
        problem = _("职责分离：该用户已在另一审核阶段通过此修订。")
    elif signer_administers:
        problem = _("三员分立：系统、安全、审计管理员不审核项目文本。")
    if problem:
        raise InvalidInput({"user": [problem]})
    if signer.pk in facts.added_signer_ids or facts.approved_here(signer.pk, stage.code):
        raise WrongState("already_signer", text_id=text.pk, user=signer.get_username())
    AddedSigner.objects.create(
        text=text,
        revision=facts.revision,
        stage=stage.code,
        user=signer,
        added_by=actor,
        comment=comment,
    )
    audit.record_for_text(
        text,
        actor=actor,
        action="add_signer",
        from_state=text.state,
        to_state=text.state,
        revision=text.revision,
        comment=comment,
        detail={"user": signer.get_username(), "stage": stage.code},
        head=locked.chain_head,
    )
    notifications.queue(
        kind="add_signer",
        text=text,
        actor=actor,
        recipient_ids={signer.pk},
        comment=comment,
        stage=stage.code,
    )
    text.workflow_facts = replace(
        facts,
        added_signer_ids=(*facts.added_signer_ids, signer.pk),
        names={**facts.names, signer.pk: signer.get_username()},
    )
    return text
