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
from submissions.checks import content_of, warnings_for
from submissions.content import section_choices
from submissions.diff import revision_diff
from submissions.lifecycle import EDITABLE_STATES, FixedAction, FixedState
from submissions.models import ProjectText
from submissions.views._common import (
    as_int,
    button_label,
    error_page,
    see_other,
    status_of,
    visible_text,
)
from submissions.views._content import diff_shown, parts_of, warnings_shown
from workflow import selectors, services
from workflow.exceptions import Refusal, WorkflowError
from workflow.models import Outcome
from workflow.permissions import Authority
from workflow.policy import (
    TextFacts,
    available_actions,
    capacities,
    may_add_signer,
    may_edit,
)
from workflow.selectors import text_history
from workflow.services.actions import COMMENT_MAX_CHARS
from workflow.states import ACTIONS_NEEDING_REASON, Role

# The session keys of the text page: what a refused form held (so that a reload keeps it),
# and the text just decided on (so that the page offers the next waiting one).
TYPED_KEY = "text_typed"
ACTED_KEY = "text_acted"
# Which button style each kind of action has: approve green, return amber, reject red.
ACTION_STYLES = {
    FixedAction.SUBMIT: "btn-primary",
    FixedAction.WITHDRAW: "btn-outline-secondary",
    FixedAction.RETURN: "btn-warning",
    FixedAction.REJECT: "btn-danger",
}
# Actions after which a reviewer is offered the next text waiting in their inbox.
NOT_REVIEWS = frozenset({FixedAction.SUBMIT, FixedAction.WITHDRAW})


def _action_forms(
    authority: Authority, text: ProjectText, facts: TextFacts, typed: dict[str, str]
) -> list[dict[str, Any]]:
    forms = []
    for action in available_actions(authority, text, facts):
        if action == "add_signer":
            continue  # needs a person to name: offered by its own form
        mine = typed.get("action") == action
        forms.append(
            {
                "action": action,
                "label": button_label(action, text),
                "style": ACTION_STYLES.get(action, "btn-success"),
                "needs_reason": action in ACTIONS_NEEDING_REASON,
                "takes_comment": action not in FixedAction.values,
                "kind": action if action in FixedAction.values else "approve",
                "final": action == FixedAction.REJECT or facts.machine.approves_finally(action),
                "comment": typed.get("comment", "") if mine else "",
                "section": typed.get("section", "") if mine else "",
            }
        )
    return forms


def _is_auditor_of(authority: Authority, text: ProjectText) -> bool:
    return authority.holds(Role.AUDITOR, text.department_id)


def _typed_in(request: HttpRequest) -> dict[str, str]:
    """What the person typed into the form they sent, to put back into it."""
    # Bounded (the session keeps it) and without NUL (the page shows it again).
    limits = {"action": 64, "comment": COMMENT_MAX_CHARS, "section": 32, "user": 150}
    typed = {
        name: request.POST.get(name, "")[:limit].replace("\x00", "")
        for name, limit in limits.items()
    }
    typed["form"] = "add_signer" if request.resolver_match.url_name == "text-add-signer" else "act"
    return typed


def _kept_typing(request: HttpRequest, text: ProjectText) -> dict[str, str]:
    """What a refused form held, kept in the session for the reload of the same version."""
    kept = request.session.pop(TYPED_KEY, None)
    if (
        isinstance(kept, dict)
        and kept.get("text") == text.pk
        and kept.get("version") == text.version
    ):
        return kept.get("typed") or {}
    return {}


def _next_waiting(request: HttpRequest, authority: Authority, text: ProjectText) -> dict | None:
    """After deciding on `text`: the next text waiting in the inbox, if any, and how many."""
    if request.session.pop(ACTED_KEY, None) != text.pk:
        return None
    waiting = selectors.inbox(authority).exclude(pk=text.pk)
    following = waiting.first()
    return {"text": following, "count": waiting.count() if following else 0}


def _detail_context(
    request: HttpRequest,
    text: ProjectText,
    *,
    typed: dict[str, str] | None = None,
    stale: dict[str, Any] | None = None,
) -> dict[str, Any]:
    authority = authority_of(request)
    events = text_history(text)
    if not _is_auditor_of(authority, text):
        events = events.filter(outcome=Outcome.OK)
    typed = typed if typed is not None else _kept_typing(request, text)
    facts = TextFacts.of(text)
    found = capacities(authority, text, facts)
    reason = _reason_shown(text)
    parts = parts_of(text)
    return {
        "bar": selectors.stage_bar(text, facts),
        "reason": reason,
        "pointed": reason.section if reason else "",
        # Someone who may act only as a delegate acts "代 X 审批"; for several, they choose.
        "acting_for": [c.principal for c in found] if found and found[0].on_behalf_of else [],
        "may_add_signer": may_add_signer(authority, text, facts),
        "text": text,
        "sections": [
            {
                "field": name,
                "label": label,
                "body": getattr(text, name),
                "after": parts["after"].get(name, []),
            }
            for name, label in section_choices()
        ],
        "parts": parts,
        "warnings": warnings_shown(warnings_for(content_of(text))),
        "actions": _action_forms(authority, text, facts, typed),
        "typed": typed,
        "stale": stale,
        "next_waiting": _next_waiting(request, authority, text),
        "section_choices": section_choices(),
        "may_edit": text.state in EDITABLE_STATES and may_edit(authority, text),
        "revisions": selectors.revisions_of(text),
        "events": events,
    }


def _reason_shown(text: ProjectText) -> Any:
    """The return or rejection that put the text where it is (shown at the top), or None."""
    if text.state not in (FixedState.RETURNED, FixedState.REJECTED):
        return None
    return selectors.latest_reason(text)


@login_required
def text_detail(request: HttpRequest, pk: int) -> HttpResponse:
    text = visible_text(authority_of(request), pk)
    return render(request, "submissions/text_detail.html", _detail_context(request, text))


@login_required
@require_POST
def text_act(request: HttpRequest, pk: int) -> HttpResponse:
    authority = authority_of(request)
    action = request.POST.get("action", "")
    return _on_the_text_page(
        request,
        pk,
        lambda: services.perform_action(
            actor=request.user,
            text_id=pk,
            action=action,
            version=as_int(request.POST.get("version")),
            comment=request.POST.get("comment", ""),
            section=request.POST.get("section", ""),
            on_behalf_of=request.POST.get("on_behalf_of") or None,
            authority=authority,
        ),
        _("成功。"),
        offer_next=action not in NOT_REVIEWS,
    )


def _what_changed(text: ProjectText, seen: int) -> dict[str, Any]:
    """For a page that is stale: the state now and the last change (who, what, when)."""
    return {"seen": seen, "state": text.state, "last": selectors.last_change(text)}


def _on_the_text_page(
    request: HttpRequest,
    pk: int,
    change: Callable[[], Any],
    done: str,
    *,
    offer_next: bool = False,
) -> HttpResponse:
    """Make a change from the text's page: back to the page with `done` (303: a reload does
    not send it again), or the page again with the refusal, its status and what was typed.

    A refusal to a form whose version is no longer the text's is said as what it is: the
    text moved on since the page was loaded (409), whatever rule the move now breaks."""
    try:
        change()
    except WorkflowError as error:
        status = status_of(error)
        # Bad input is refused before visibility is looked at: a text that is missing or
        # not the user's is still a 404 here, never the detail page.
        text = visible_text(authority_of(request), pk)
        typed = _typed_in(request)
        seen = as_int(request.POST.get("version"))
        stale = None
        if isinstance(error, Refusal) and isinstance(seen, int) and seen != text.version:
            status, stale = 409, _what_changed(text, seen)
        else:
            messages.error(request, _("失败：%(reason)s") % {"reason": error.message})
        # Kept for a reload of the page (the response's address becomes the text's own).
        request.session[TYPED_KEY] = {"text": text.pk, "version": text.version, "typed": typed}
        context = _detail_context(request, text, typed=typed, stale=stale)
        return render(request, "submissions/text_detail.html", context, status=status)
    request.session.pop(TYPED_KEY, None)
    if offer_next:
        request.session[ACTED_KEY] = pk
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
    context.update(diff=diff, shown=diff_shown(diff), latest=latest, against=against)
    context.update(_decision_context(request, text, latest))
    return render(request, "submissions/text_diff.html", context)


def _decision_context(request: HttpRequest, text: ProjectText, latest: int) -> dict[str, Any]:
    """What the diff page shows beside the changes: the reason that sent the revision before
    back (and the section it pointed at), and the decision panel, to decide from here."""
    authority = authority_of(request)
    facts = TextFacts.of(text)
    found = capacities(authority, text, facts)
    reason = selectors.latest_reason(text)
    if reason is not None and reason.revision.number >= latest:
        reason = None  # a decision on this revision: nothing it changed answers it
    return {
        "reason": reason,
        "pointed": reason.section if reason else "",
        "acting_for": [c.principal for c in found] if found and found[0].on_behalf_of else [],
        "actions": _action_forms(authority, text, facts, {}),
        "may_add_signer": False,
        "section_choices": section_choices(),
        "typed": {},
    }


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
