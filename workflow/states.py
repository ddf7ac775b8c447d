"""The states, actions and roles of the review workflow (DESIGN.md, "The state machine").

Plain values only, so that models, services and the API can all import them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    DRAFT = "draft", _("编制中")
    DEPT_REVIEW = "dept_review", _("部门审核")
    FINANCE_REVIEW = "finance_review", _("财政审核")
    APPROVAL = "approval", _("待审批")
    APPROVED = "approved", _("已批准")
    RETURNED = "returned", _("退回修改")
    REJECTED = "rejected", _("不予立项")


class Action(models.TextChoices):
    SUBMIT = "submit", _("提交")
    WITHDRAW = "withdraw", _("撤回")
    DEPT_APPROVE = "dept_approve", _("部门审核通过")
    FINANCE_APPROVE = "finance_approve", _("财政审核通过")
    APPROVE = "approve", _("批准")
    RETURN = "return", _("退回")
    REJECT = "reject", _("不予立项")


class Role(models.TextChoices):
    DRAFTER = "drafter", _("编制人")
    DEPT_REVIEWER = "dept_reviewer", _("部门审核人")
    FINANCE_REVIEWER = "finance_reviewer", _("财政审核人")
    APPROVER = "approver", _("审批人")
    AUDITOR = "auditor", _("审计人")


# Roles that only make sense inside one department; the others cover every department
# unless a grant names one.
DEPARTMENT_ROLES = frozenset({Role.DRAFTER, Role.DEPT_REVIEWER})

REVIEW_STATES = (State.DEPT_REVIEW, State.FINANCE_REVIEW, State.APPROVAL)
EDITABLE_STATES = (State.DRAFT, State.RETURNED)

# The reviewer role that acts on a text in each review state.
STAGE_ROLE = {
    State.DEPT_REVIEW: Role.DEPT_REVIEWER,
    State.FINANCE_REVIEW: Role.FINANCE_REVIEWER,
    State.APPROVAL: Role.APPROVER,
}

# Each review stage's approving action.
STAGE_APPROVAL = {
    State.DEPT_REVIEW: Action.DEPT_APPROVE,
    State.FINANCE_REVIEW: Action.FINANCE_APPROVE,
    State.APPROVAL: Action.APPROVE,
}
APPROVING_ACTIONS = frozenset(STAGE_APPROVAL.values())

# Actions whose reason is required (DESIGN.md: "reason required").
ACTIONS_NEEDING_REASON = frozenset({Action.RETURN, Action.REJECT})

# Every (from, to) pair the machine allows; the PostgreSQL trigger refuses any other.
TRANSITIONS = (
    (State.DRAFT, State.DEPT_REVIEW),
    (State.RETURNED, State.DEPT_REVIEW),
    (State.DEPT_REVIEW, State.DRAFT),
    (State.DEPT_REVIEW, State.FINANCE_REVIEW),
    (State.FINANCE_REVIEW, State.APPROVAL),
    (State.APPROVAL, State.APPROVED),
    *((stage, State.RETURNED) for stage in REVIEW_STATES),
    *((stage, State.REJECTED) for stage in REVIEW_STATES),
)
