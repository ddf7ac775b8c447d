"""Reading texts: lists, inboxes, revisions. Nothing here writes."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from submissions.amounts import AmountError, parse_amount
from submissions.lifecycle import EDITABLE_STATES, FIXED_STATES, FixedAction
from submissions.models import ProjectText, Revision
from submissions.text_rules import whole_number
from workflow.exceptions import InvalidInput, NotVisible
from workflow.machine import catalog, version_of
from workflow.models import Decision, StageVisit
from workflow.permissions import Authority
from workflow.policy import Shares, visible_texts, waiting_for

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
    texts = visible_texts(authority, known=known, shares=Shares.of(authority.user))
    texts = texts.select_related(*TEXT_LIST_RELATED)
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
    waiting = waiting_for(authority, shares=Shares.of(authority.user))
    return waiting.select_related(*TEXT_LIST_RELATED).order_by("entered_state_at", "id")


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


# --- The pages' lists: filters, sorting, counts per state, where each text is --------------

# The orders the text list offers (a whitelist: nothing else reaches order_by).
TEXT_SORTS = {
    "updated": "updated_at",
    "amount": "amount",
    "title": "title",
    "fiscal_year": "fiscal_year",
    "id": "id",
}


def amount_bound(name: str, value: Any) -> Decimal | None:
    """An amount bound of the list's filter as a person types it (read by the one amount
    parser, `submissions.amounts`); None when empty; InvalidInput naming `name` otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput({name: [_("应为金额，例如 1,751,800.00元。")]})
    try:
        return parse_amount(value, typed=True)
    except AmountError as error:
        raise InvalidInput({name: [str(error)]}) from None


@dataclass(frozen=True)
class TextListing:
    """The text list as a page shows it: the texts (filtered, sorted), the counts per state
    of the same filters without the state (for the tabs), and what the filters were."""

    texts: QuerySet[ProjectText]
    counts: dict[str, int]
    total: int
    sort: str
    descending: bool


def text_listing(authority: Authority, params: dict[str, Any]) -> TextListing:
    """`text_list`'s filters, plus `amount_min`/`amount_max` (yuan, as people type them) and
    `sort` (a key of TEXT_SORTS, "-" in front for descending; newest update first by
    default). The counts per state cost one grouped query."""
    texts = text_list(authority, {n: params.get(n) for n in ("department", "fiscal_year", "q")})
    low = amount_bound("amount_min", params.get("amount_min"))
    high = amount_bound("amount_max", params.get("amount_max"))
    if low is not None:
        texts = texts.filter(amount__gte=low)
    if high is not None:
        texts = texts.filter(amount__lte=high)
    raw_sort = params.get("sort") or "-updated"
    if not isinstance(raw_sort, str) or raw_sort.removeprefix("-") not in TEXT_SORTS:
        raise InvalidInput({"sort": [_("未知排序：%(s)s") % {"s": str(raw_sort)[:40]}]})
    descending = raw_sort.startswith("-")
    sort = raw_sort.removeprefix("-")
    state = params.get("state")
    filtered = texts
    if state:
        if not isinstance(state, str) or state not in catalog().all_states:
            raise InvalidInput({"state": [_("未知状态：%(s)s") % {"s": str(state)[:40]}]})
        filtered = texts.filter(state=state)
    counts = state_counts(texts)
    field = TEXT_SORTS[sort]
    order = [f"-{field}", "-id"] if descending else [field, "id"]
    return TextListing(filtered.order_by(*order), counts, sum(counts.values()), sort, descending)


def state_counts(texts: QuerySet[ProjectText]) -> dict[str, int]:
    """{state: number of texts} of a query, in one grouped query."""
    return dict(texts.order_by().values_list("state").annotate(n=Count("pk")))


@dataclass(frozen=True)
class Whereabouts:
    """Where a text is, for a line in a list: its state (and the workflow version naming
    it), the roles it waits for (lane roles of its stage; "drafter" when it is back with
    the drafter), and the open stage visit's due date."""

    state: str
    version_id: int | None
    roles: tuple[str, ...] = ()
    due_at: datetime | None = None
    overdue: bool = False

    @property
    def with_drafter(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def at_stage(self) -> bool:
        return bool(self.roles) and not self.with_drafter


def whereabouts(
    texts: Iterable[ProjectText], *, now: datetime | None = None
) -> dict[int, Whereabouts]:
    """{text id: Whereabouts} for the texts of one page: one query (their open stage visits)
    whatever their number; the stages and lanes come from the cached machines. The texts
    should have `route` selected (TEXT_LIST_RELATED)."""
    texts = list(texts)
    if not texts:
        return {}
    known = catalog()
    now = now or timezone.now()
    due = dict(
        StageVisit.objects.filter(
            text_id__in=[t.pk for t in texts], left_at__isnull=True
        ).values_list("text_id", "due_at")
    )
    found = {}
    for text in texts:
        version_id = version_of(text)
        roles: tuple[str, ...] = ()
        if text.state in EDITABLE_STATES:
            roles = ("drafter",)
        elif text.state not in FIXED_STATES:
            machine = known.machine(version_id) if version_id else known.current
            stage = machine.stage(text.state)
            if stage is not None:
                roles = tuple(dict.fromkeys(lane.role for lane in stage.lanes))
        due_at = due.get(text.pk) if text.state not in FIXED_STATES else None
        found[text.pk] = Whereabouts(
            text.state, version_id, roles, due_at, bool(due_at and due_at < now)
        )
    return found


@dataclass(frozen=True)
class Waiting:
    """What waits for a user, in one query: how many, since when the oldest, how many of
    them are past their stage's due date."""

    count: int
    oldest: datetime | None
    overdue: int


def waiting_summary(authority: Authority, *, now: datetime | None = None) -> Waiting:
    now = now or timezone.now()
    late = StageVisit.objects.filter(text=OuterRef("pk"), left_at__isnull=True, due_at__lt=now)
    figures = (
        inbox(authority)
        .order_by()
        .aggregate(
            count=Count("pk"),
            oldest=Min("entered_state_at"),
            overdue=Count("pk", filter=Q(Exists(late))),
        )
    )
    return Waiting(figures["count"], figures["oldest"], figures["overdue"])


def existing_titles(
    items: Iterable[tuple[str, int, str]], authority: Authority | None = None
) -> set[tuple[str, int, str]]:
    """Of (department name, fiscal year, title) triples, those a text already has (among the
    texts `authority` may see, when given): one query, for an import's preview to warn of
    duplicates."""
    items = [(d, y, t) for d, y, t in items if d and y and t]
    if not items:
        return set()
    condition = Q(pk__in=[])
    for department, year, title in items:
        condition |= Q(department__name=department, fiscal_year=year, title=title)
    texts = visible_texts(authority) if authority is not None else ProjectText.objects.all()
    found = texts.filter(condition).values_list("department__name", "fiscal_year", "title")
    return set(found)
