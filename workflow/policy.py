"""May this user take this action on this text now? The rules of DESIGN.md in one place.

`workflow.services` asks before it acts; the API asks to list `available_actions`.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django_fsm import can_proceed
from guardian.core import ObjectPermissionChecker

from submissions.models import ProjectText, Revision
from workflow.exceptions import NotPermitted, Refusal, WrongState
from workflow.models import Decision
from workflow.permissions import Authority
from workflow.states import APPROVING_ACTIONS, STAGE_ROLE, Action, Role

# The model method that performs each action (`return` is a Python keyword).
TRANSITION_METHODS = {
    Action.SUBMIT: "submit",
    Action.WITHDRAW: "withdraw",
    Action.DEPT_APPROVE: "dept_approve",
    Action.FINANCE_APPROVE: "finance_approve",
    Action.APPROVE: "approve",
    Action.RETURN: "return_to_drafter",
    Action.REJECT: "reject",
}


@dataclass(frozen=True)
class RevisionFacts:
    """What separation of duties needs to know about the text's current revision."""

    revision: Revision | None
    author_ids: frozenset[int]
    decisions: tuple[tuple[int, str], ...]  # (actor id, action) on this revision

    @classmethod
    def of(cls, text: ProjectText) -> "RevisionFacts":
        revision = None
        decisions: tuple[tuple[int, str], ...] = ()
        if text.revision:
            revision = (
                Revision.objects.filter(text=text, number=text.revision)
                .only("id", "number", "text_id", "submitted_by_id")
                .first()
            )
            decisions = tuple(
                Decision.objects.filter(revision=revision).values_list("actor_id", "action")
            )
        author_ids = frozenset(text.authors.values_list("pk", flat=True))
        return cls(revision, author_ids, decisions)


def may_edit(authority: Authority, text: ProjectText) -> bool:
    """A drafter of the text's department, or someone granted `change` on this text."""
    if authority.holds(Role.DRAFTER, text.department_id):
        return True
    user = authority.user
    return user.is_active and ObjectPermissionChecker(user).has_perm("change_projecttext", text)


def refusal_for(
    authority: Authority, text: ProjectText, action: Action, facts: RevisionFacts
) -> Refusal | None:
    """Why `action` may not be taken on `text` now, or None when it may."""
    if not can_proceed(getattr(text, TRANSITION_METHODS[action])):
        return WrongState(
            _("当前状态“%(state)s”下不能执行“%(action)s”。")
            % {"state": text.get_state_display(), "action": action.label},
            text_id=text.pk,
            state=text.state,
        )
    user = authority.user
    if action == Action.SUBMIT:
        if not may_edit(authority, text):
            return NotPermitted(_("只有本部门的编制人或被授权人可以提交。"), text_id=text.pk)
        return None
    if action == Action.WITHDRAW:
        if facts.revision is None or facts.revision.submitted_by_id != user.pk:
            return NotPermitted(_("只有提交人可以撤回。"), text_id=text.pk)
        if facts.decisions:
            return WrongState(_("审核人已处理此修订，不能撤回。"), text_id=text.pk)
        return None
    if not authority.holds(STAGE_ROLE[text.state], text.department_id):
        return NotPermitted(_("您不是此阶段的审核人。"), text_id=text.pk)
    # Separation of duties binds everyone, superusers included.
    if user.pk in facts.author_ids:
        return NotPermitted(
            _("职责分离：您编制或提交过此文本，不能审核它。"), text_id=text.pk, rule="sod_author"
        )
    if action in APPROVING_ACTIONS and any(
        actor_id == user.pk and done in APPROVING_ACTIONS for actor_id, done in facts.decisions
    ):
        return NotPermitted(
            _("职责分离：您已在另一审核阶段通过此修订。"), text_id=text.pk, rule="sod_two_stages"
        )
    return None


def available_actions(authority: Authority, text: ProjectText) -> list[str]:
    """The actions this user could take on the text now (the version aside)."""
    facts = RevisionFacts.of(text)
    return [
        action.value for action in Action if refusal_for(authority, text, action, facts) is None
    ]
