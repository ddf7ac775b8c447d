"""The auditors' pages: the searchable log (newest first) with its verification and its CSV
for people, and one text's history with each change field by field."""

from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from submissions.api import authority_of
from submissions.models import Department, ProjectText
from submissions.sections import SECTIONS
from workflow import services
from workflow.csv_export import stream_csv
from workflow.exceptions import InvalidInput, TooSoon
from workflow.machine import catalog_per_request, version_of
from workflow.models import AuditEvent, Outcome
from workflow.permissions import Scope
from workflow.selectors import (
    PAGE_FILTERS,
    action_choices,
    describe_events,
    latest_checkpoint,
    latest_verification,
    search_events,
    text_history_newest_first,
)
from workflow.selectors.audit import EventView, FieldChange
from workflow.vocabulary import state_label

PAGE_SIZE = 50
# The search form's fields, by the names its error summary gives them.
FILTER_LABELS: dict[str, Any] = {
    "title": gettext_lazy("项目名称"),
    "actor": gettext_lazy("用户"),
    "action": gettext_lazy("操作"),
    "outcome": gettext_lazy("结果"),
    "department": gettext_lazy("部门"),
    "text": gettext_lazy("项目文本编号"),
    "since": gettext_lazy("起始日期"),
    "until": gettext_lazy("截止日期"),
}


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "forbidden_page.html",
        {"page": _("审计"), "who": _("只有审计人或审计管理员可以查看审计日志。")},
        status=403,
    )


def _auditor_scope(request: HttpRequest) -> Scope | None:
    scope = authority_of(request).audit_scope()
    return scope if scope else None


def _params(request: HttpRequest) -> dict[str, str]:
    return {name: request.GET.get(name, "").strip() for name in PAGE_FILTERS}


def _error_list(errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    return [
        {"field": name, "label": FILTER_LABELS.get(name, name), "messages": messages}
        for name, messages in errors.items()
    ]


def _search_page(
    request: HttpRequest,
    scope: Scope,
    params: dict[str, str],
    errors: dict[str, list[str]],
    *,
    verify_note: str = "",
    status: int | None = None,
) -> HttpResponse:
    events = AuditEvent.objects.none()
    if not errors:
        try:
            events = search_events(authority_of(request), params)
        except InvalidInput as error:
            errors = error.errors
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    departments = Department.objects.order_by("code")
    if not scope.everywhere:
        departments = departments.filter(id__in=scope.department_ids)
    query = urlencode({k: v for k, v in params.items() if v})
    verification = latest_verification()
    context = {
        "params": params,
        "errors": _error_list(errors),
        "invalid": set(errors),
        "field_errors": errors,
        "page": page,
        "rows": describe_events(page.object_list),
        "query": query,
        "export_url": reverse("audit-export") + (f"?{query}" if query else ""),
        "actions": action_choices(),
        "outcomes": Outcome.choices,
        "departments": departments.values_list("code", "name"),
        # The newest verification, kept by the background task or an auditor's request:
        # recomputing the whole log on every view would make the page's cost grow with it.
        "verification": verification,
        "requested": request.GET.get("requested", ""),
        "just_verified": verification is not None
        and verification.request_id is not None
        and request.GET.get("requested") == str(verification.request_id),
        "verify_note": verify_note,
        "checkpoint": latest_checkpoint(),
    }
    return render(
        request, "workflow/audit.html", context, status=status or (400 if errors else 200)
    )


@login_required
def audit_search(request: HttpRequest) -> HttpResponse:
    scope = _auditor_scope(request)
    if scope is None:
        return _forbidden(request)
    return _search_page(request, scope, _params(request), {})


@login_required
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Ask for a full verification (a background job, throttled); back to the page, which
    shows the result once the job has kept it."""
    scope = _auditor_scope(request)
    if scope is None:
        return _forbidden(request)
    try:
        requested = services.request_full_verification(actor=request.user)
    except TooSoon as refusal:
        return _search_page(request, scope, {}, {}, verify_note=refusal.message, status=429)
    return redirect(f"{reverse('audit')}?requested={requested.pk}#verify")


@login_required
def audit_text_history(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _auditor_scope(request)
    if scope is None:
        return _forbidden(request)
    text = ProjectText.objects.select_related("department", "route").filter(pk=pk).first()
    if text is None or not scope.covers(text.department_id):
        raise Http404
    page = Paginator(text_history_newest_first(text), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "text": text,
        "state": state_label(text.state, version_of(text)),
        "sections": [
            (str(ProjectText._meta.get_field(name).verbose_name), getattr(text, name))
            for name, _label in SECTIONS
        ],
        "rows": describe_events(page.object_list, with_diff=True),
        "page": page,
    }
    return render(request, "workflow/text_history.html", context)


# --- The CSV for people ----------------------------------------------------------------------


def _changes_in_words(changes: list[FieldChange]) -> str:
    """ "字段：前 → 后", one a line; long text shortened to the part that changed."""
    lines = []
    for change in changes:
        if change.rows:
            # A table: row by row (新增第 3 行…；第 1 行（…）：金额 … → …).
            lines.append(
                _("%(field)s：%(rows)s")
                % {"field": change.label, "rows": _("；").join(change.rows)}
            )
            continue
        before, after = change.before, change.after
        if change.long:
            before, after = _changed_part(before, after)
        lines.append(
            _("%(field)s：%(before)s → %(after)s")
            % {"field": change.label, "before": before, "after": after}
        )
    return "\n".join(lines)


EXCERPT_CHARS = 120
CONTEXT_CHARS = 10


def _changed_part(before: str, after: str) -> tuple[str, str]:
    """What differs between two long texts, with a little context either side (linear)."""
    start = 0
    limit = min(len(before), len(after))
    while start < limit and before[start] == after[start]:
        start += 1
    end = 0
    while end < limit - start and before[-1 - end] == after[-1 - end]:
        end += 1
    start = max(0, start - CONTEXT_CHARS)
    end = max(0, end - CONTEXT_CHARS)

    def cut(value: str) -> str:
        middle = value[start : len(value) - end]
        if len(middle) > EXCERPT_CHARS:
            middle = middle[:EXCERPT_CHARS] + "…"
        return ("…" if start else "") + middle + ("…" if end else "")

    return cut(before), cut(after)


def _person(person: Any) -> str:
    return str(person) if person else ""


# (header, value): people's columns in the reader's language, then the codes for scripts,
# under names that never change.
CSV_COLUMNS: tuple[tuple[Any, Callable[[EventView], Any]], ...] = (
    (gettext_lazy("时间"), lambda r: r.at.strftime("%Y-%m-%d %H:%M:%S")),
    (gettext_lazy("操作人"), lambda r: _person(r.actor) or _("系统")),
    (gettext_lazy("代理"), lambda r: _person(r.on_behalf_of)),
    (gettext_lazy("操作"), lambda r: r.action),
    (gettext_lazy("结果"), lambda r: r.outcome),
    (gettext_lazy("项目文本"), lambda r: r.text_title),
    (gettext_lazy("部门"), lambda r: r.department),
    (gettext_lazy("阶段（前）"), lambda r: r.from_state),
    (gettext_lazy("阶段（后）"), lambda r: r.to_state),
    (gettext_lazy("修订"), lambda r: r.event.revision),
    (gettext_lazy("意见"), lambda r: r.event.comment),
    (gettext_lazy("变更字段"), lambda r: _changes_in_words(r.changes)),
    (gettext_lazy("说明"), lambda r: r.note),
    ("event_id", lambda r: r.event.pk),
    ("text_id", lambda r: r.event.text_id),
    ("actor", lambda r: r.event.actor_name),
    ("action_code", lambda r: r.event.action),
    ("outcome_code", lambda r: r.event.outcome),
    ("department_code", lambda r: r.event.department),
    ("from_state", lambda r: r.event.from_state),
    ("to_state", lambda r: r.event.to_state),
)
CSV_BATCH = 500


def _csv_lines(events: Iterator[AuditEvent], language: str) -> Iterator[str]:
    # Streamed after the view returns: in the language of the request, whatever is active.
    with translation.override(language):
        yield from _csv_body(events)


def _csv_body(events: Iterator[AuditEvent]) -> Iterator[str]:
    # Streamed after the request's middleware has finished: the workflow versions are read
    # once a batch, as a request reads them once.
    described = catalog_per_request(lambda batch: describe_events(batch))

    def rows() -> Iterator[list[object]]:
        while batch := list(islice(events, CSV_BATCH)):
            # A batch at a time: a fixed number of queries for each, whatever the log holds.
            for row in described(batch):
                yield [value(row) for _header, value in CSV_COLUMNS]

    yield from stream_csv([header for header, _value in CSV_COLUMNS], rows(), chunk_rows=CSV_BATCH)


@login_required
def audit_export(request: HttpRequest) -> HttpResponse:
    """The page's search as a CSV for people (the API's export is the scripts' contract)."""
    scope = _auditor_scope(request)
    if scope is None:
        return _forbidden(request)
    params = _params(request)
    try:
        events = search_events(authority_of(request), params)
    except InvalidInput as error:
        return _search_page(request, scope, params, error.errors)
    response = StreamingHttpResponse(
        _csv_lines(events.iterator(chunk_size=CSV_BATCH), translation.get_language()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
    return response
