"""The built-in workflow `budget-text` v1: the chain DESIGN.md's state machine describes.

Migration 0007 stores it (with a frozen copy of this document); an installation whose
versions are all gone (a flushed test database) gets it back on first use.
"""

from django.db import IntegrityError, transaction

DOCUMENT = {
    "code": "budget-text",
    "name": "部门预算项目文本审批",
    "roles": [],
    "stages": [
        {
            "code": "dept_review",
            "name": "部门审核",
            "approve_action": "dept_approve",
            "lanes": [{"role": "dept_reviewer", "quorum": 1}],
            "due_days": 5,
            "supervisor_role": "dept_review_supervisor",
        },
        {
            "code": "finance_review",
            "name": "财政审核",
            "approve_action": "finance_approve",
            "lanes": [{"role": "finance_reviewer", "quorum": 1}],
            "due_days": 5,
            "supervisor_role": "finance_review_supervisor",
        },
        {
            "code": "approval",
            "name": "待审批",
            "approve_action": "approve",
            "lanes": [{"role": "approver", "quorum": 1}],
            "due_days": 3,
            "supervisor_role": "approval_supervisor",
        },
    ],
}


def install() -> None:
    """Store v1 if no version exists at all (two processes at once: one stores it)."""
    from workflow.definitions import validate
    from workflow.models import Workflow, WorkflowVersion
    from workflow.services.definitions import store_rows

    definition = validate(DOCUMENT)
    try:
        with transaction.atomic():
            workflow, _created = Workflow.objects.get_or_create(
                code=definition.code, defaults={"name": definition.name}
            )
            version = WorkflowVersion.objects.create(
                workflow=workflow, number=1, document=definition.as_document()
            )
            store_rows(version, definition)
    except IntegrityError:
        pass  # another process stored it first
