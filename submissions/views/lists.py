"""Home, the text list, the inbox and bulk approval."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from submissions.api import authority_of
from submissions.models import ProjectText
from submissions.views._common import (
    HOME_SIZE,
    PAGE_SIZE,
    as_int,
    version_of,
)
from workflow import selectors, services
from workflow.exceptions import InvalidInput, WorkflowError
from workflow.machine import catalog
from workflow.models import StageVisit
from workflow.policy import (
    acting_for,
)
from workflow.states import Role
from workflow.vocabulary import state_label


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "submissions/login.html", {"form": None})
    authority = authority_of(request)
    context = {
        "authority": authority,
        "may_draft": bool(authority.scope(Role.DRAFTER)),
        "inbox": selectors.inbox(authority)[:HOME_SIZE],
        "texts": selectors.text_list(authority, {})[:HOME_SIZE],
    }
    return render(request, "submissions/home.html", context)


@login_required
def text_list(request: HttpRequest) -> HttpResponse:
    authority = authority_of(request)
    params = {
        name: request.GET.get(name, "") for name in ("state", "department", "fiscal_year", "q")
    }
    status = 200
    try:
        texts = selectors.text_list(authority, params)
    except InvalidInput as error:
        messages.error(request, error.message)
        texts, status = ProjectText.objects.none(), 400
    page = Paginator(texts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "texts": page.object_list,
        "states": [(state, state_label(state)) for state in catalog().all_states],
        "params": params,
        "may_draft": bool(authority.scope(Role.DRAFTER)),
    }
    return render(request, "submissions/text_list.html", context, status=status)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    authority = authority_of(request)
    page = Paginator(selectors.inbox(authority), PAGE_SIZE).get_page(request.GET.get("page"))
    texts = list(page.object_list)
    # The due dates of the whole page in one query.
    due = dict(
        StageVisit.objects.filter(
            text_id__in=[text.pk for text in texts], left_at__isnull=True
        ).values_list("text_id", "due_at")
    )
    now = timezone.now()
    known = catalog()
    delegated = acting_for(authority, [text.pk for text in texts])
    rows = [
        {
            "text": text,
            "acting_for": delegated.get(text.pk),
            "days": (now - text.entered_state_at).days,
            "due_at": due.get(text.pk),
            "approvable": known.approve_action_at(text.state, version_of(text)) is not None,
        }
        for text in texts
    ]
    context = {"page": page, "rows": rows, "any_approvable": any(r["approvable"] for r in rows)}
    return render(request, "submissions/inbox.html", context)


@login_required
@require_POST
def bulk_approve(request: HttpRequest) -> HttpResponse:
    authority = authority_of(request)
    results = []
    for raw_id in dict.fromkeys(request.POST.getlist("texts")):
        result: dict[str, Any] = {"id": raw_id, "title": f"#{raw_id}", "ok": False, "reason": ""}
        try:
            text = selectors.text_detail(authority, raw_id)
            result["id"], result["title"] = text.pk, text.title
            action = catalog().approve_action_at(text.state, version_of(text))
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
                    authority=authority,
                )
                result["ok"] = True
        except WorkflowError as error:
            result["reason"] = error.message
        results.append(result)
    context = {
        "approved": [r for r in results if r["ok"]],
        "refused": [r for r in results if not r["ok"]],
    }
    return render(request, "submissions/bulk_result.html", context)
