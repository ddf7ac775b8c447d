"""Reading texts: lists, inboxes, revisions. Nothing here writes."""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from submissions.lifecycle import FIXED_STATES, FixedAction
from submissions.models import ProjectText, Revision
from submissions.text_rules import whole_number
from workflow.exceptions import InvalidInput, NotVisible
from workflow.machine import catalog
from workflow.models import Decision
from workflow.permissions import Authority
from workflow.policy import visible_texts, waiting_for

TEXT_LIST_RELATED = ("department", "created_by", "route")
# Longer than any title; SQLite refuses a LIKE pattern past 50,000 bytes.
SEARCH_MAX_CHARS = 200


def _as_int(name: str, value: Any) -> int:
    number = whole_number(value)
    if number is None:
        raise InvalidInput({name: [_("应为正整数。")]})
    return number


def text_list(authority: Authority, params: dict[str, Any]) -> QuerySet[ProjectText]:
    """Visible texts, filtered by `state`, `department` (code), `fiscal_year` and `q`."""
    known = catalog()
    texts = visible_texts(authority, known=known).select_related(*TEXT_LIST_RELATED)
    state = params.get("state")
    if state:
        if not isinstance(state, str) or state not in known.all_states:
            raise InvalidInput({"state": [_("未知状态：%(s)s") % {"s": state}]})
        texts = texts.filter(state=state)
    department = params.get("department")
    if department:
        texts = texts.filter(department__code=department)
    year = params.get("fiscal_year")
    if year:
        texts = texts.filter(fiscal_year=_as_int("fiscal_year", year))
    q = (params.get("q") or "").strip()
    if len(q) > SEARCH_MAX_CHARS:
        raise InvalidInput({"q": [_("搜索词不能超过 %(n)d 个字符。") % {"n": SEARCH_MAX_CHARS}]})
    if q:
        texts = texts.filter(Q(title__icontains=q) | Q(implementer__icontains=q))
    return texts.order_by("-updated_at", "-id")


def inbox(authority: Authority) -> QuerySet[ProjectText]:
    """Texts waiting for this user's action, oldest first (`workflow.policy.waiting_for`)."""
    return (
        waiting_for(authority).select_related(*TEXT_LIST_RELATED).order_by("entered_state_at", "id")
    )


def text_detail(authority: Authority, text_id: Any) -> ProjectText:
    text = (
        visible_texts(authority)
        .select_related(*TEXT_LIST_RELATED)
        .filter(pk=whole_number(text_id) or 0)
        .first()
    )
    if text is None:
        raise NotVisible("text_not_found")
    return text


def revisions_of(text: ProjectText) -> QuerySet[Revision]:
    return (
        text.revisions.select_related("submitted_by")
        .prefetch_related("decisions__actor", "decisions__on_behalf_of")
        .order_by("number")
    )


def revision_of(text: ProjectText, number: Any) -> Revision:
    revision = text.revisions.filter(number=whole_number(number) or 0).first()
    if revision is None:
        raise NotVisible("revision_not_found")
    return revision


def revision_last_seen_by_stage(text: ProjectText) -> int | None:
    """The newest earlier revision that the text's current stage already decided on (the
    one it returned), so that its reviewer sees what changed since; None if it has none."""
    if text.state in FIXED_STATES:
        return None
    return (
        Decision.objects.filter(text=text, stage=text.state, revision__number__lt=text.revision)
        .order_by("-revision__number")
        .values_list("revision__number", flat=True)
        .first()
    )


def latest_reason(text: ProjectText) -> Decision | None:
    """The newest return or rejection of the text (its reason, the section it points at,
    who and where), or None if it was never returned or rejected."""
    return (
        Decision.objects.filter(text=text, action__in=(FixedAction.RETURN, FixedAction.REJECT))
        .select_related("actor", "on_behalf_of", "revision")
        .order_by("-decided_at", "-id")
        .first()
    )
