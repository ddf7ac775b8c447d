"""Reading texts: lists, inboxes, revisions. Nothing here writes."""

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from submissions.models import ProjectText, Revision
from workflow.exceptions import InvalidInput, NotVisible
from workflow.models import Decision
from workflow.permissions import Authority, visible_texts
from workflow.states import APPROVING_ACTIONS, STAGE_ROLE, Role, State
from workflow.text_rules import whole_number

TEXT_LIST_RELATED = ("department", "created_by")
# Longer than any title; SQLite refuses a LIKE pattern past 50,000 bytes.
SEARCH_MAX_CHARS = 200


def _as_int(name: str, value: Any) -> int:
    number = whole_number(value)
    if number is None:
        raise InvalidInput({name: [_("应为正整数。")]})
    return number


def text_list(authority: Authority, params: dict[str, Any]) -> QuerySet[ProjectText]:
    """Visible texts, filtered by `state`, `department` (code), `fiscal_year` and `q`."""
    texts = visible_texts(authority).select_related(*TEXT_LIST_RELATED)
    state = params.get("state")
    if state:
        if state not in State.values:
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
    """Texts waiting for this user's action, oldest first.

    A reviewer's texts at their stage that separation of duties lets them act on, and a
    drafter's texts that were returned to them.
    """
    user = authority.user
    wrote_it = Exists(
        ProjectText.authors.through.objects.filter(projecttext_id=OuterRef("pk"), user_id=user.pk)
    )
    approved_it = Exists(
        Decision.objects.filter(
            text_id=OuterRef("pk"),
            revision__number=OuterRef("revision"),
            actor_id=user.pk,
            action__in=APPROVING_ACTIONS,
        )
    )
    waiting = Q(pk__in=[])
    for stage, role in STAGE_ROLE.items():
        scope = authority.scope(role)
        if scope:
            waiting |= Q(state=stage) & scope.department_filter() & ~Q(wrote_it)
    drafter = authority.scope(Role.DRAFTER)
    if drafter:
        waiting |= Q(state=State.RETURNED) & drafter.department_filter()
    texts = visible_texts(authority).filter(waiting)
    if any(authority.scope(role) for role in STAGE_ROLE.values()):
        texts = texts.exclude(Q(state__in=list(STAGE_ROLE)) & Q(approved_it))
    return texts.select_related(*TEXT_LIST_RELATED).order_by("entered_state_at", "id")


def text_detail(authority: Authority, text_id: Any) -> ProjectText:
    text = (
        visible_texts(authority)
        .select_related(*TEXT_LIST_RELATED)
        .filter(pk=whole_number(text_id) or 0)
        .first()
    )
    if text is None:
        raise NotVisible(_("项目文本不存在。"))
    return text


def revisions_of(text: ProjectText) -> QuerySet[Revision]:
    return (
        text.revisions.select_related("submitted_by")
        .prefetch_related("decisions__actor")
        .order_by("number")
    )


def revision_of(text: ProjectText, number: Any) -> Revision:
    revision = text.revisions.filter(number=whole_number(number) or 0).first()
    if revision is None:
        raise NotVisible(_("修订不存在。"))
    return revision


def revision_last_seen_by_stage(text: ProjectText) -> int | None:
    """The newest earlier revision that the text's current stage already decided on (the
    one it returned), so that its reviewer sees what changed since; None if it has none."""
    if text.state not in STAGE_ROLE:
        return None
    return (
        Decision.objects.filter(text=text, stage=text.state, revision__number__lt=text.revision)
        .order_by("-revision__number")
        .values_list("revision__number", flat=True)
        .first()
    )
