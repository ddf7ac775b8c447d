"""The auditors' pages: the searchable log with its verification, and one text's history."""

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from submissions.api import authority_of
from submissions.models import Department, ProjectText
from submissions.sections import SECTIONS
from workflow.audit import HEAD_RESTORED
from workflow.exceptions import InvalidInput, NotPermitted
from workflow.models import AuditEvent, Outcome
from workflow.selectors import (
    audit_events,
    latest_checkpoint,
    latest_verification,
    text_history,
)
from workflow.services.accounts import CHANGE_ACCOUNT, CREATE_ACCOUNT
from workflow.services.attempts import SUMMARY_ACTION
from workflow.services.signin import SIGN_IN_FAILED, SIGN_IN_LOCKED_OUT
from workflow.states import Action, Role, State
from workflow.vocabulary import event_note

FILTERS = ("text", "actor", "action", "department", "outcome", "since", "until")
PAGE_SIZE = 50

# Every action name the log holds, with its label: the workflow's own and the others.
ACTION_LABELS: dict[str, Any] = {
    "create": _("创建"),
    "edit": _("编辑"),
    **dict(Action.choices),
    "grant_role": _("授予角色"),
    "revoke_role": _("撤销角色"),
    "grant_text_access": _("共享文本"),
    "revoke_text_access": _("取消共享"),
    "remind": _("到期提醒"),
    "escalate": _("逾期督办"),
    CREATE_ACCOUNT: _("创建账户"),
    CHANGE_ACCOUNT: _("变更账户"),
    SIGN_IN_FAILED: _("登录失败"),
    SIGN_IN_LOCKED_OUT: _("登录被锁定"),
    SUMMARY_ACTION: _("被拒绝尝试汇总"),
    HEAD_RESTORED: _("恢复链头"),
}
STATE_LABELS = dict(State.choices)
FIELD_LABELS: dict[str, Any] = {
    **{name: ProjectText._meta.get_field(name).verbose_name for name, _label in SECTIONS},
    "amount": ProjectText._meta.get_field("amount").verbose_name,
    "fiscal_year": ProjectText._meta.get_field("fiscal_year").verbose_name,
}


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "workflow/forbidden.html", status=403)


def _note(detail: dict[str, Any]) -> str:
    """What else the event says: a refusal's reason, whose role or access changed, how many
    refusals a summary counts, or who tried to sign in from where."""
    note = event_note(detail)
    if note:
        return note
    if "count" in detail:
        return _("共 %(n)s 次，%(first)s 至 %(last)s") % {
            "n": detail["count"],
            "first": detail.get("first_at", ""),
            "last": detail.get("last_at", ""),
        }
    keys = ("user", "role", "access", "username", "address")
    return " ".join(str(detail[k]) for k in keys if detail.get(k))


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "event": event,
        "action": ACTION_LABELS.get(event.action, event.action),
        "from_state": STATE_LABELS.get(event.from_state, event.from_state),
        "to_state": STATE_LABELS.get(event.to_state, event.to_state),
        "refused": event.outcome == Outcome.REFUSED,
        "note": _note(event.detail or {}),
    }


@login_required
def audit_search(request: HttpRequest) -> HttpResponse:
    authority = authority_of(request)
    scope = authority.scope(Role.AUDITOR)
    if not scope:
        return _forbidden(request)
    params = {name: request.GET.get(name, "").strip() for name in FILTERS}
    errors: dict[str, list[str]] = {}
    try:
        events = audit_events(authority, params)
    except NotPermitted:
        return _forbidden(request)
    except InvalidInput as error:
        errors, events = error.errors, AuditEvent.objects.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    departments = Department.objects.order_by("code")
    if not scope.everywhere:
        departments = departments.filter(id__in=scope.department_ids)
    context = {
        "params": params,
        "errors": errors,
        "page": page,
        "rows": [_row(event) for event in page.object_list],
        "query": urlencode({k: v for k, v in params.items() if v}),
        "actions": list(ACTION_LABELS.items()),
        "outcomes": Outcome.choices,
        "departments": departments.values_list("code", "name"),
        # The newest background verification: recomputing the whole log here would make
        # the page's cost grow with the log.
        "verification": latest_verification(),
        "checkpoint": latest_checkpoint(),
    }
    return render(request, "workflow/audit.html", context, status=400 if errors else 200)


@login_required
def audit_text_history(request: HttpRequest, pk: int) -> HttpResponse:
    scope = authority_of(request).scope(Role.AUDITOR)
    if not scope:
        return _forbidden(request)
    text = ProjectText.objects.select_related("department").filter(pk=pk).first()
    if text is None or not scope.covers(text.department_id):
        raise Http404
    page = Paginator(text_history(text), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for event in page.object_list:
        row = _row(event)
        row["changes"] = [
            {"field": FIELD_LABELS.get(name, name), "before": pair[0], "after": pair[1]}
            for name, pair in (event.changes or {}).items()
        ]
        rows.append(row)
    context = {
        "text": text,
        "state": STATE_LABELS.get(text.state, text.state),
        "sections": [(FIELD_LABELS[name], getattr(text, name)) for name, _label in SECTIONS],
        "rows": rows,
        "page": page,
    }
    return render(request, "workflow/text_history.html", context)
