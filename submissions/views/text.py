"""One text: its page, the actions taken from it, adding a signer, the diff."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from submissions.api import authority_of
from submissions.content import section_choices
from submissions.diff import revision_diff
from submissions.lifecycle import EDITABLE_STATES, FixedAction
from submissions.models import ProjectText
from submissions.views._common import (
    as_int,
    button_label,
    error_page,
    see_other,
    status_of,
    visible_text,
)
from workflow import selectors, services
from workflow.exceptions import WorkflowError
from workflow.models import Outcome
from workflow.permissions import Authority
from workflow.policy import (
    TextFacts,
    available_actions,
    capacities,
    may_add_signer,
    may_edit,
    progress,
)
from workflow.selectors import text_history
from workflow.states import ACTIONS_NEEDING_REASON, Role
from workflow.vocabulary import role_label, state_label


def _progress_rows(stage_progress: dict[str, Any] | None) -> dict[str, Any] | None:
    """`stage_progress` with the names a reader reads: roles, quorums, who is still due."""
    if stage_progress is None:
        return None
    lanes = []
    for lane in stage_progress["lanes"]:
        quorum, approved = lane["quorum"], lane["approved_by"]
        lanes.append(
            {
                **lane,
                "role_name": role_label(lane["role"]),
                "kind": _("或签") if quorum == 1 else _("会签 %(n)d 人") % {"n": quorum},
                "remaining": max(quorum - len(approved), 0),
            }
        )
    return {**stage_progress, "stage_name": state_label(stage_progress["stage"]), "lanes": lanes}


def _action_forms(authority: Authority, text: ProjectText) -> list[dict[str, Any]]:
    forms = []
    for action in available_actions(authority, text):
        if action == "add_signer":
            continue  # needs a person to name: offered by its own form
        forms.append(
            {
                "action": action,
                "label": button_label(action, text),
                "needs_reason": action in ACTIONS_NEEDING_REASON,
                "takes_comment": action not in FixedAction.values,
            }
        )
    return forms


def _is_auditor_of(authority: Authority, text: ProjectText) -> bool:
    return authority.holds(Role.AUDITOR, text.department_id)


def _detail_context(request: HttpRequest, text: ProjectText) -> dict[str, Any]:
    authority = authority_of(request)
    events = text_history(text)
    if not _is_auditor_of(authority, text):
        events = events.filter(outcome=Outcome.OK)
    facts = TextFacts.of(text)
    found = capacities(authority, text, facts)
    return {
        "progress": _progress_rows(progress(text, facts)),
        # Someone who may act only as a delegate acts "代 X 审批"; for several, they choose.
        "acting_for": [c.principal for c in found] if found and found[0].on_behalf_of else [],
        "may_add_signer": may_add_signer(authority, text, facts),
        "text": text,
        "sections": [
            {"field": name, "label": label, "body": getattr(text, name)}
            for name, label in section_choices()
        ],
        "actions": _action_forms(authority, text),
        "section_choices": section_choices(),
        "may_edit": text.state in EDITABLE_STATES and may_edit(authority, text),
        "revisions": selectors.revisions_of(text),
        "events": events,
    }


@login_required
def text_detail(request: HttpRequest, pk: int) -> HttpResponse:
    text = visible_text(authority_of(request), pk)
    return render(request, "submissions/text_detail.html", _detail_context(request, text))


@login_required
@require_POST
def text_act(request: HttpRequest, pk: int) -> HttpResponse:
    authority = authority_of(request)
    return _on_the_text_page(
        request,
        pk,
        lambda: services.perform_action(
            actor=request.user,
            text_id=pk,
            action=request.POST.get("action", ""),
            version=as_int(request.POST.get("version")),
            comment=request.POST.get("comment", ""),
            section=request.POST.get("section", ""),
            on_behalf_of=request.POST.get("on_behalf_of") or None,
            authority=authority,
        ),
        _("成功。"),
    )


def _on_the_text_page(
    request: HttpRequest, pk: int, change: Callable[[], Any], done: str
) -> HttpResponse:
    """Make a change from the text's page: back to the page with `done`, or the page again
    with the refusal and its status."""
    try:
        change()
    except WorkflowError as error:
        status = status_of(error)
        # Bad input is refused before visibility is looked at: a text that is missing or
        # not the user's is still a 404 here, never the detail page.
        text = visible_text(authority_of(request), pk)
        messages.error(request, _("失败：%(reason)s") % {"reason": error.message})
        context = _detail_context(request, text)
        return render(request, "submissions/text_detail.html", context, status=status)
    messages.success(request, done)
    return see_other(reverse("text-detail", args=[pk]))


@login_required
def text_diff(request: HttpRequest, pk: int) -> HttpResponse:
    text = visible_text(authority_of(request), pk)
    numbers = list(text.revisions.order_by("number").values_list("number", flat=True))
    context: dict[str, Any] = {"text": text, "numbers": numbers, "diff": None}
    if len(numbers) < 2:
        return render(request, "submissions/text_diff.html", context)
    latest = numbers[-1]
    # By default: against what this stage saw last (what changed since it returned the
    # text), else the revision before.
    default = selectors.revision_last_seen_by_stage(text) or latest - 1
    against = as_int(request.GET.get("against") or default)
    if against not in numbers or against == latest:
        return error_page(request, _("修订不存在。"), 404)
    diff = revision_diff(selectors.revision_of(text, latest), selectors.revision_of(text, against))
    context.update(diff=diff, latest=latest, against=against)
    return render(request, "submissions/text_diff.html", context)


@login_required
@require_POST
def text_add_signer(request: HttpRequest, pk: int) -> HttpResponse:
    """加签 from the text's page: the person named must approve this stage too."""
    return _on_the_text_page(
        request,
        pk,
        lambda: services.add_signer(
            actor=request.user,
            text_id=pk,
            version=as_int(request.POST.get("version")),
            user=request.POST.get("user", "").strip(),
            comment=request.POST.get("comment", ""),
        ),
        _("已加签。"),
    )
