"""Home, the text list, the inbox and bulk approval."""

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications import services as notification_services
from notifications.messages import sentence
from submissions.api import authority_of
from submissions.models import Department, ProjectText
from submissions.views._common import (
    FINAL_LABEL,
    PAGE_SIZE,
    PASS_LABEL,
    as_int,
    see_other,
    version_of,
)
from workflow import selectors, services
from workflow.exceptions import InvalidInput, WorkflowError
from workflow.machine import catalog
from workflow.policy import acting_for
from workflow.selectors.texts import (
    TEXT_SORTS,
    state_counts,
    text_listing,
    waiting_summary,
    whereabouts,
)
from workflow.services.actions import COMMENT_MAX_CHARS
from workflow.states import Role
from workflow.vocabulary import state_label

# What the home page shows of each list; the rest is one click away.
HOME_WAITING = 5
HOME_RECENT = 5
HOME_NOTIFICATIONS = 5
# The text list's filters, as the query string names them.
LIST_PARAMS = ("state", "department", "fiscal_year", "amount_min", "amount_max", "q", "sort")
# Names of the filters for messages that say which one is wrong.
FIELD_LABELS = {
    "state": gettext_lazy("状态"),
    "department": gettext_lazy("部门"),
    "fiscal_year": gettext_lazy("预算年度"),
    "amount_min": gettext_lazy("最低金额"),
    "amount_max": gettext_lazy("最高金额"),
    "q": gettext_lazy("搜索"),
    "sort": gettext_lazy("排序"),
}
SORT_LABELS = {
    "updated": gettext_lazy("更新时间"),
    "amount": gettext_lazy("金额"),
    "title": gettext_lazy("项目名称"),
    "fiscal_year": gettext_lazy("预算年度"),
    "id": gettext_lazy("编号"),
}
# At most this many texts in one bulk approval (a page of the inbox holds PAGE_SIZE).
BULK_MAX = 200
# Where bulk approval keeps its last result between the POST and the page showing it.
BULK_RESULT_KEY = "bulk_approve_result"


def _named(error: InvalidInput) -> list[dict[str, str]]:
    """An InvalidInput's problems, each with the field it is about and that field's name."""
    return [
        {
            "field": field,
            "message": f"{FIELD_LABELS[field]}{_('：')}{problem}"
            if field in FIELD_LABELS
            else problem,
        }
        for field, problems in error.errors.items()
        for problem in problems
    ]


def _query(params: dict[str, Any], **changes: Any) -> str:
    """The query string of `params` (empty ones left out) with `changes` applied."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def _pages(page: Page) -> list[Any]:
    """The page numbers to offer: the first, the last, two either side of this one, and
    an ellipsis (the Paginator's) for each gap."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "submissions/login.html", {"form": None})
    authority = authority_of(request)
    waiting = list(selectors.inbox(authority)[:HOME_WAITING])
    where = whereabouts(waiting)
    visible = selectors.text_list(authority, {})
    counts = state_counts(visible)
    notifications = list(
        notification_services.listed(request.user).select_related("text", "text__route")[
            :HOME_NOTIFICATIONS
        ]
    )
    context = {
        "authority": authority,
        "may_draft": bool(authority.scope(Role.DRAFTER)),
        "may_audit": bool(authority.audit_scope()),
        "summary": waiting_summary(authority),
        "waiting": [{"text": text, "where": where[text.pk]} for text in waiting],
        "by_state": [
            (state, state_label(state), counts[state])
            for state in catalog().all_states
            if counts.get(state)
        ],
        "total": sum(counts.values()),
        "recent": visible[:HOME_RECENT],
        "notifications": [{"notification": n, "sentence": sentence(n)} for n in notifications],
        "now": timezone.now(),
    }
    return render(request, "submissions/home.html", context)


@login_required
def text_list(request: HttpRequest) -> HttpResponse:
    authority = authority_of(request)
    params = {name: request.GET.get(name, "") for name in LIST_PARAMS}
    status = 200
    errors: list[dict[str, str]] = []
    counts: dict[str, int] = {}
    total = 0
    sort, descending = "updated", True
    try:
        listing = text_listing(authority, params)
        texts, counts, total = listing.texts, listing.counts, listing.total
        sort, descending = listing.sort, listing.descending
    except InvalidInput as error:
        errors = _named(error)
        texts, status = ProjectText.objects.none(), 400
    page = Paginator(texts, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    where = whereabouts(rows)
    context = {
        "page": page,
        "page_numbers": _pages(page),
        "query": _query(params),
        "texts": rows,
        "rows": [{"text": text, "where": where.get(text.pk)} for text in rows],
        "states": [
            {
                "value": state,
                "label": state_label(state),
                "count": counts.get(state, 0),
                "query": _query(params, state=state),
            }
            for state in catalog().all_states
        ],
        "all_query": _query(params, state=""),
        "total": total,
        "params": params,
        "errors": errors,
        "invalid": {e["field"] for e in errors},
        "departments": Department.objects.order_by("name").values_list("code", "name"),
        "sorts": [(key, SORT_LABELS[key]) for key in TEXT_SORTS],
        "sort": sort,
        "descending": descending,
        "filtered": any(params[n] for n in LIST_PARAMS if n not in ("state", "sort")),
        "may_draft": bool(authority.scope(Role.DRAFTER)),
    }
    return render(request, "submissions/text_list.html", context, status=status)


def _verb(text: ProjectText) -> tuple[str | None, str]:
    """The approve action of the stage the text waits at, and its word: 批准 at the last
    stage, 通过 at the others."""
    version_id = version_of(text)
    action = catalog().approve_action_at(text.state, version_id)
    if action is None:
        return None, ""
    machine = catalog().machine(version_id) if version_id else catalog().current
    return action, str(FINAL_LABEL if machine.approves_finally(action) else PASS_LABEL)


def _inbox_context(request: HttpRequest) -> dict[str, Any]:
    authority = authority_of(request)
    page = Paginator(selectors.inbox(authority), PAGE_SIZE).get_page(request.GET.get("page"))
    texts = list(page.object_list)
    now = timezone.now()
    where = whereabouts(texts, now=now)
    delegated = acting_for(authority, [text.pk for text in texts])
    rows = []
    for text in texts:
        action, verb = _verb(text)
        place = where[text.pk]
        rows.append(
            {
                "text": text,
                "where": place,
                "acting_for": delegated.get(text.pk),
                "days": (now - text.entered_state_at).days,
                "due_at": place.due_at,
                "overdue": place.overdue,
                "approvable": action is not None,
                "verb": verb,
            }
        )
    verbs = {row["verb"] for row in rows if row["approvable"]}
    return {
        "page": page,
        "page_numbers": _pages(page),
        "query": "",
        "rows": rows,
        "any_approvable": bool(verbs),
        "mixed": len(verbs) > 1,
        "verb": verbs.pop() if len(verbs) == 1 else _("审批"),
        "comment_max": COMMENT_MAX_CHARS,
    }


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "submissions/inbox.html", _inbox_context(request))


@login_required
def bulk_approve(request: HttpRequest) -> HttpResponse:
    """POST approves the ticked texts, each at its own stage with the optional comment, then
    sends the browser (303) to GET, which shows what was done (kept in the session, so that
    reloading the result approves nothing again)."""
    if request.method != "POST":
        result = request.session.get(BULK_RESULT_KEY)
        if result is None:
            return see_other(reverse("inbox"))
        return render(request, "submissions/bulk_result.html", result)
    ids = list(dict.fromkeys(request.POST.getlist("texts")))
    comment = request.POST.get("comment", "")
    refusal = None
    if not ids:
        refusal = _("请先选择要通过的项目文本。")
    elif len(ids) > BULK_MAX:
        refusal = _("一次最多处理 %(n)d 份。") % {"n": BULK_MAX}
    elif len(comment.strip()) > COMMENT_MAX_CHARS:
        refusal = _("审核意见不能超过 %(n)d 个字符。") % {"n": COMMENT_MAX_CHARS}
    if refusal:
        context = {**_inbox_context(request), "error": refusal}
        return render(request, "submissions/inbox.html", context, status=400)
    authority = authority_of(request)
    results = []
    for raw_id in ids:
        result: dict[str, Any] = {
            "id": None,
            "title": f"#{raw_id}"[:40],
            "amount": "",
            "verb": "",
            "ok": False,
            "reason": "",
        }
        try:
            text = selectors.text_detail(authority, raw_id)
            action, verb = _verb(text)
            result.update(id=text.pk, title=text.title, amount=str(text.amount), verb=verb)
            if action is None:
                result["reason"] = _("当前状态“%(state)s”下不能通过。") % {
                    "state": state_label(text.state)
                }
            else:
                services.perform_action(
                    actor=request.user,
                    text_id=text.pk,
                    action=action,
                    version=as_int(request.POST.get(f"version-{text.pk}")),
                    comment=comment,
                    authority=authority,
                )
                result["ok"] = True
        except WorkflowError as error:
            result["reason"] = error.message
        results.append(result)
    approved = [r for r in results if r["ok"]]
    verbs = {r["verb"] for r in approved}
    request.session[BULK_RESULT_KEY] = {
        "approved": approved,
        "refused": [r for r in results if not r["ok"]],
        "total": str(sum((Decimal(r["amount"]) for r in approved), Decimal("0.00"))),
        "comment": comment.strip() if approved else "",
        "verb": verbs.pop() if len(verbs) == 1 else _("审批"),
    }
    return see_other(reverse("bulk-approve"))
