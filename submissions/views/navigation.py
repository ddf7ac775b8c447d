"""What the header offers: only the pages the user may use (an auditor's link to 审计 is not
shown to a drafter, who would meet a 403)."""

from typing import Any

from django.http import HttpRequest

from submissions.api import authority_of
from workflow.selectors.reports import may_see_reports
from workflow.services.delegation import delegable_roles
from workflow.states import ADMINISTRATOR_ROLES, Role


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    authority = authority_of(request)
    roles = set(authority.roles)
    return {
        "nav": {
            "may_draft": bool(authority.scope(Role.DRAFTER)),
            # Everyone but a pure auditor or an administrator may be asked to act: reviewers,
            # and drafters whose text came back.
            "has_inbox": bool(roles - {Role.AUDITOR} - ADMINISTRATOR_ROLES)
            or bool(authority.mandates),
            "may_delegate": bool(delegable_roles(authority)) or bool(authority.mandates),
            "may_audit": bool(authority.audit_scope()),
            "may_report": may_see_reports(authority),
            "is_staff": user.is_staff,
        }
    }
