"""The finance bureau's reports of one fiscal year: texts and amounts by department and by
state, how long texts stay at each stage and how often a stage returns them, and what waits
for each reviewer. Nothing here writes.

Every figure costs a fixed number of queries, whatever the number of texts: the counts
and sums are grouped in the database, and so are the stays and the decisions.

What the figures count:
- the texts the reader may see (`policy.visible_texts`) of the departments their report
  roles cover, of the year;
- a stay is one visit of a text at a review stage (`StageVisit`: entered when the text
  arrived, left when it moved on); its length is in calendar days, weekends and holidays
  included; the average and the longest are over the stays that ended, the stays still
  open are counted apart;
- a stage's decisions are its `Decision` rows (every approval, return and rejection, so a
  stage with a quorum of two counts two approvals); its returned rate is returns over
  decisions;
- what waits for a reviewer is their inbox (`policy.waiting_for`, the inbox's own rule) at
  the review stages, not texts back with a drafter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
)
from django.utils.translation import gettext as _

from submissions.lifecycle import EDITABLE_STATES, FixedAction, FixedState
from submissions.models import Department, ProjectText
from submissions.text_rules import FISCAL_YEARS, whole_number
from workflow.exceptions import InvalidInput
from workflow.machine import Catalog, catalog
from workflow.models import Decision, StageVisit
from workflow.permissions import EVERYWHERE, NOWHERE, Authority, Scope, authorities_holding
from workflow.policy import visible_texts, waiting_for
from workflow.states import Role
from workflow.vocabulary import role_label, state_label

# Who reads the reports: the finance bureau (its reviewers and approvers) and auditors; not
# the three administrators, who read no texts (三员分立).
REPORT_ROLES = (Role.FINANCE_REVIEWER, Role.APPROVER, Role.AUDITOR)
ZERO = Decimal("0.00")
DAY = Decimal(86_400)
TENTH = Decimal("0.1")
# The years a person may ask for: a text's possible budget years; anything else is a
# mistyped address, not a year.
FIRST_YEAR, LAST_YEAR = FISCAL_YEARS[0], FISCAL_YEARS[-1]


def report_scope(authority: Authority) -> Scope:
    """The departments whose texts the reader's report roles cover (empty: no reports)."""
    scopes = [authority.scope(role) for role in REPORT_ROLES]
    if any(scope.everywhere for scope in scopes):
        return EVERYWHERE
    ids = frozenset().union(*(scope.department_ids for scope in scopes))
    return Scope(department_ids=ids) if ids else NOWHERE


def may_see_reports(authority: Authority) -> bool:
    return bool(report_scope(authority))


def reported_texts(authority: Authority, *, known: Catalog | None = None) -> QuerySet:
    """Every text the reports may count for this reader, of any year."""
    scope = report_scope(authority)
    if not scope:
        return ProjectText.objects.none()
    return visible_texts(authority, known=known).filter(scope.department_filter())


def report_years(authority: Authority) -> list[int]:
    """The fiscal years with texts the reader's reports count, newest first (one query)."""
    return list(
        reported_texts(authority)
        .order_by("-fiscal_year")
        .values_list("fiscal_year", flat=True)
        .distinct()
    )


def year_asked(value: Any, years: list[int]) -> int | None:
    """The year a request asks for; by default the newest with texts (None: there is none).
    InvalidInput naming `year` for anything but a plausible year."""
    if value in (None, ""):
        return years[0] if years else None
    year = whole_number(value)
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(
            {"year": [_("应为 %(a)d 至 %(b)d 之间的年度。") % {"a": FIRST_YEAR, "b": LAST_YEAR}]}
        )
    return year


@dataclass(frozen=True)
class Tally:
    """How many texts, and their amounts, in one department or one state."""

    key: str
    label: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class StageFigures:
    """One review stage over the year: its stays (ended, and still open) and decisions."""

    code: str
    name: str
    stays: int
    average_days: Decimal | None
    longest_days: Decimal | None
    open_stays: int
    decisions: int
    returns: int

    @property
    def return_rate(self) -> Decimal | None:
        """Returns per hundred decisions, one place; None before any decision."""
        if not self.decisions:
            return None
        return (Decimal(100 * self.returns) / Decimal(self.decisions)).quantize(
            TENTH, rounding=ROUND_HALF_UP
        )


@dataclass(frozen=True)
class ReviewerLoad:
    """What waits for one reviewer now, and since when the oldest of it."""

    user: AbstractBaseUser
    name: str
    roles: tuple[str, ...]
    waiting: int
    oldest: datetime | None


@dataclass(frozen=True)
class FinanceReport:
    year: int | None
    years: list[int]
    departments: list[Tally]
    states: list[Tally]
    stages: list[StageFigures]
    reviewers: list[ReviewerLoad]

    @property
    def total(self) -> Tally:
        return Tally(
            "",
            _("合计"),
            sum(t.count for t in self.departments),
            sum((t.amount for t in self.departments), ZERO),
        )

    @property
    def waiting_total(self) -> int:
        return sum(r.waiting for r in self.reviewers)


def in_days(length: timedelta | None) -> Decimal | None:
    """A stay's length in calendar days, one place, half up."""
    if length is None:
        return None
    seconds = Decimal(length.days * 86_400 + length.seconds) + Decimal(length.microseconds) / 10**6
    return (seconds / DAY).quantize(TENTH, rounding=ROUND_HALF_UP)


def finance_report(authority: Authority, year: int | None, years: list[int]) -> FinanceReport:
    """The report of `year` as this reader may see it: a fixed number of queries."""
    known = catalog()
    texts = reported_texts(authority, known=known).filter(fiscal_year=year or 0)
    return FinanceReport(
        year=year,
        years=years,
        departments=_by_department(authority, texts),
        states=_by_state(texts, known),
        stages=_stages(texts, known),
        reviewers=_reviewers(texts, known),
    )


def _grouped(texts: QuerySet, field: str) -> dict[Any, tuple[int, Decimal]]:
    rows = texts.order_by().values_list(field).annotate(n=Count("pk"), total=Sum("amount"))
    # Summed by the database: SQLite drops the trailing zeros of a Decimal, put them back.
    return {key: (n, (total or ZERO).quantize(ZERO)) for key, n, total in rows}


def _by_department(authority: Authority, texts: QuerySet) -> list[Tally]:
    """Every department the reader's reports cover, those without texts too; the largest
    amount first."""
    figures = _grouped(texts, "department_id")
    departments = Department.objects.filter(report_scope(authority).department_filter("pk"))
    found = [
        Tally(code, name, *figures.get(pk, (0, ZERO)))
        for pk, code, name in departments.values_list("pk", "code", "name")
    ]
    return sorted(found, key=lambda t: (-t.amount, -t.count, t.key))


def _by_state(texts: QuerySet, known: Catalog) -> list[Tally]:
    """Every state of every workflow version, in the order a text passes them."""
    figures = _grouped(texts, "state")
    last = (FixedState.APPROVED, FixedState.RETURNED, FixedState.REJECTED)
    states = [str(FixedState.DRAFT), *review_stages(known), *map(str, last)]
    states += sorted(set(figures) - set(states))
    return [Tally(s, state_label(s), *figures.get(s, (0, ZERO))) for s in states]


def review_stages(known: Catalog) -> list[str]:
    """Every review stage of every workflow version, in the order of the newest version;
    a stage only an older version has comes after the stage it followed there."""
    order: list[str] = []
    for machine in reversed(known.machines):
        previous = None
        for stage in machine.stages:
            if stage.code not in order:
                order.insert(order.index(previous) + 1 if previous else 0, stage.code)
            previous = stage.code
    return order


def _stages(texts: QuerySet, known: Catalog) -> list[StageFigures]:
    length = ExpressionWrapper(F("left_at") - F("entered_at"), output_field=DurationField())
    visits = StageVisit.objects.filter(text__in=texts.values("pk"))
    stays = {
        stage: (ended, average, longest, still_open)
        for stage, ended, average, longest, still_open in visits.order_by()
        .values_list("stage")
        .annotate(
            ended=Count("pk", filter=Q(left_at__isnull=False)),
            average=Avg(length, filter=Q(left_at__isnull=False)),
            longest=Max(length, filter=Q(left_at__isnull=False)),
            still_open=Count("pk", filter=Q(left_at__isnull=True)),
        )
    }
    decided = {
        stage: (total, returns)
        for stage, total, returns in Decision.objects.filter(text__in=texts.values("pk"))
        .order_by()
        .values_list("stage")
        .annotate(
            total=Count("pk"),
            returns=Count("pk", filter=Q(action=FixedAction.RETURN)),
        )
    }
    codes = review_stages(known)
    codes += sorted((set(stays) | set(decided)) - set(codes))
    found = []
    for code in codes:
        ended, average, longest, still_open = stays.get(code, (0, None, None, 0))
        total, returns = decided.get(code, (0, 0))
        found.append(
            StageFigures(
                code,
                state_label(code),
                ended,
                in_days(average),
                in_days(longest),
                still_open,
                total,
                returns,
            )
        )
    return found


def _reviewers(texts: QuerySet, known: Catalog) -> list[ReviewerLoad]:
    """Each holder of a review role, with what waits for them among the report's texts: the
    inbox's rule (`waiting_for`), every reviewer's in one grouped query."""
    people = authorities_holding(list(known.review_roles))
    if not people:
        return []
    at_review = texts.exclude(state__in=EDITABLE_STATES)
    figures: dict[str, Any] = {}
    for authority in people:
        mine = Q(pk__in=waiting_for(authority, known=known).values("pk"))
        figures[f"n{authority.user.pk}"] = Count("pk", filter=mine)
        figures[f"t{authority.user.pk}"] = Min("entered_state_at", filter=mine)
    counted = at_review.order_by().aggregate(**figures)
    review_roles = set(known.review_roles)
    found = [
        ReviewerLoad(
            authority.user,
            authority.user.get_full_name() or authority.user.get_username(),
            tuple(role_label(r) for r in authority.roles if r in review_roles),
            counted[f"n{authority.user.pk}"],
            counted[f"t{authority.user.pk}"],
        )
        for authority in people
    ]
    return sorted(found, key=lambda r: (-r.waiting, r.user.get_username()))
