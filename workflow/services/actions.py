"""The workflow actions: submit, withdraw, the three approvals, return and reject."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import deadlines
from notifications import services as notifications
from submissions.content import CONTENT_FIELDS, SECTION_FIELDS, missing_for_submit
from submissions.models import ProjectText, Revision
from workflow import audit
from workflow.exceptions import InvalidInput
from workflow.models import Decision
from workflow.permissions import Authority, role_holders
from workflow.policy import TRANSITION_METHODS, RevisionFacts, refusal_for
from workflow.services._shared import (
    check_version,
    lock_visible_text,
    recording_refusals,
    require_version,
)
from workflow.states import ACTIONS_NEEDING_REASON, Action, Role
from workflow.text_rules import unstorable_reason

COMMENT_MAX_CHARS = 5_000


def perform_action(
    *,
    actor: AbstractBaseUser,
    text_id: Any,
    action: str,
    version: Any,
    comment: Any = "",
    section: Any = "",
) -> ProjectText:
    """Take one workflow action (submit, withdraw, dept_approve, ...) on a text."""
    try:
        action = Action(action)
    except ValueError:
        raise InvalidInput({"action": [_("未知操作：%(a)s") % {"a": action}]}) from None
    version = require_version(version)
    comment = _clean_comment(comment, required=action in ACTIONS_NEEDING_REASON)
    section = _clean_section(section)
    return recording_refusals(
        action,
        lambda: _perform_action(actor, text_id, action, version, comment, section),
        actor=actor,
        text_id=text_id,
        version=version,
        comment=comment,
    )


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
    actor: AbstractBaseUser,
    text_id: Any,
    action: Action,
    version: int,
    comment: str,
    section: str,
) -> ProjectText:
    authority = Authority.of(actor)
    text = lock_visible_text(authority, text_id)
    facts = RevisionFacts.of(text)
    refusal = refusal_for(authority, text, action, facts)
    if refusal is not None:
        raise refusal
    check_version(text, version)

    from_state = text.state
    now = timezone.now()
    revision = facts.revision
    if action == Action.SUBMIT:
        missing = missing_for_submit({name: getattr(text, name) for name in CONTENT_FIELDS})
        if missing:
            raise InvalidInput(missing)
        revision = _freeze_revision(text, actor, now)
        text.authors.add(actor)

    getattr(text, TRANSITION_METHODS[action])()
    text.version += 1
    text.updated_at = text.entered_state_at = now
    text.save(update_fields=["state", "version", "revision", "updated_at", "entered_state_at"])

    if action not in (Action.SUBMIT, Action.WITHDRAW):
        Decision.objects.create(
            text=text,
            revision=revision,
            stage=from_state,
            action=action,
            actor=actor,
            comment=comment,
            section=section,
            decided_at=now,
        )
    audit.record_for_text(
        text,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=text.state,
        revision=text.revision,
        comment=comment,
        detail={"section": section} if section else None,
    )
    deadlines.move(text, now)
    notifications.queue(
        kind=action,
        text=text,
        actor=actor,
        recipient_ids=_told_of(action, text, facts),
        comment=comment,
    )
    return text


def _told_of(action: Action, text: ProjectText, facts: RevisionFacts) -> set[int]:
    """Who learns of an action (DESIGN.md, "Notifications"); the actor is left out later."""
    next_reviewers = {
        Action.SUBMIT: Role.DEPT_REVIEWER,
        Action.DEPT_APPROVE: Role.FINANCE_REVIEWER,
        Action.FINANCE_APPROVE: Role.APPROVER,
    }
    if action in next_reviewers:
        holders = role_holders(next_reviewers[action], text.department_id)
        return set(holders.values_list("pk", flat=True))
    if action in (Action.RETURN, Action.REJECT, Action.APPROVE):
        acted = {actor_id for actor_id, _done in facts.decisions}
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
