"""The fixed parts of the workflow's vocabulary, and the built-in workflow's names.

A text's states are the fixed ones (`submissions.lifecycle`) and the stage codes of the
workflow version it follows (`workflow.machine`). The names below are what the built-in
`budget-text` v1 uses (workflow/builtin/budget-text.yaml), kept as enums because tests,
the demo and the English translation refer to them; nothing routes by them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from submissions.lifecycle import FixedAction, FixedState

__all__ = ["FixedAction", "FixedState"]


class State(models.TextChoices):
    DRAFT = FixedState.DRAFT.value, FixedState.DRAFT.label
    DEPT_REVIEW = "dept_review", _("部门审核")
    FINANCE_REVIEW = "finance_review", _("财政审核")
    APPROVAL = "approval", _("待审批")
    APPROVED = FixedState.APPROVED.value, FixedState.APPROVED.label
    RETURNED = FixedState.RETURNED.value, FixedState.RETURNED.label
    REJECTED = FixedState.REJECTED.value, FixedState.REJECTED.label


class Action(models.TextChoices):
    SUBMIT = FixedAction.SUBMIT.value, FixedAction.SUBMIT.label
    WITHDRAW = FixedAction.WITHDRAW.value, FixedAction.WITHDRAW.label
    DEPT_APPROVE = "dept_approve", _("部门审核通过")
    FINANCE_APPROVE = "finance_approve", _("财政审核通过")
    APPROVE = "approve", _("批准")
    RETURN = FixedAction.RETURN.value, FixedAction.RETURN.label
    REJECT = FixedAction.REJECT.value, FixedAction.REJECT.label


class Role(models.TextChoices):
    DRAFTER = "drafter", _("编制人")
    DEPT_REVIEWER = "dept_reviewer", _("部门审核人")
    FINANCE_REVIEWER = "finance_reviewer", _("财政审核人")
    APPROVER = "approver", _("审批人")
    AUDITOR = "auditor", _("审计人")


class Administrator(models.TextChoices):
    """三员分立 (issue 11): three administrators, each with one job, nobody holding two (and
    no administrator holding any other role). The superuser flag makes nobody one of them."""

    SYSTEM = "system_admin", _("系统管理员")  # accounts, departments, workflow versions
    SECURITY = "security_admin", _("安全管理员")  # role grants and delegations
    AUDIT = "audit_admin", _("审计管理员")  # reads the whole audit log


ADMINISTRATOR_ROLES = frozenset(Administrator.values)


# How each built-in role is granted: "department" roles need a department; "global" ones
# cover every department unless a grant names one. Loaded workflows declare more.
BUILTIN_ROLE_SCOPES = {
    Role.DRAFTER: "department",
    Role.DEPT_REVIEWER: "department",
    Role.FINANCE_REVIEWER: "global",
    Role.APPROVER: "global",
    Role.AUDITOR: "global",
    # Granted for the whole installation only (`workflow.services.roles` refuses a department).
    Administrator.SYSTEM: "global",
    Administrator.SECURITY: "global",
    Administrator.AUDIT: "global",
}
# The built-in roles a workflow's lanes may name; drafters write and auditors only read.
REVIEW_ROLES = (Role.DEPT_REVIEWER, Role.FINANCE_REVIEWER, Role.APPROVER)

# Actions whose reason is required (DESIGN.md: "reason required").
ACTIONS_NEEDING_REASON = frozenset({Action.RETURN, Action.REJECT})
