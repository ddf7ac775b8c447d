"""Which texts the documents that go out hold, as the policy lets a user see them: the
approved texts of a department's budget year (the publication bundle, 公开文本) and the
bundles a user may download."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext as _

from submissions.content import FISCAL_YEARS
from submissions.errors import WorkflowError
from submissions.lifecycle import FixedState
from submissions.models import Department, ProjectText
from workflow.permissions import Authority
from workflow.policy import visible_texts

# The stable order of a bundle: （一）（二）… follow the project codes, then the ids.
PUBLICATION_ORDER = ("project_code", "id")


class NothingToPublish(WorkflowError):
    """An unknown department, or a budget year of it without an approved text this user may
    see: the same answer, so that a department's texts do not leak."""

    status = 404
    code = "not_found"


def publication_texts(
    authority: Authority, department_code: Any, fiscal_year: Any
) -> tuple[Department, list[ProjectText]]:
    """The department and its approved texts of `fiscal_year` that the user may see, in the
    bundle's order; NothingToPublish (404) when there are none."""
    department = Department.objects.filter(code=str(department_code)[:32]).first()
    if department is None:
        raise NothingToPublish(_("未知部门：%(code)s") % {"code": str(department_code)[:32]})
    if fiscal_year not in FISCAL_YEARS:
        raise NothingToPublish(
            _("预算年度应在 %(low)d 到 %(high)d 之间。")
            % {"low": FISCAL_YEARS[0], "high": FISCAL_YEARS[-1]}
        )
    texts = list(
        visible_texts(authority)
        .filter(department=department, fiscal_year=fiscal_year, state=FixedState.APPROVED)
        .select_related("department")
        .order_by(*PUBLICATION_ORDER)
    )
    if not texts:
        raise NothingToPublish(
            _("%(department)s %(year)s 年度没有已批准的项目文本，无可公开的文本。")
            % {"department": department.name, "year": fiscal_year}
        )
    return department, texts


@dataclass(frozen=True)
class Bundle:
    department_code: str
    department_name: str
    fiscal_year: int
    count: int
    total: Decimal


def publication_bundles(authority: Authority) -> list[Bundle]:
    """Every (department, budget year) with approved texts the user may see, newest year
    first: one grouped query."""
    approved: QuerySet[ProjectText] = visible_texts(authority).filter(state=FixedState.APPROVED)
    rows = (
        approved.order_by()
        .values("department__code", "department__name", "fiscal_year")
        .annotate(count=Count("pk"), total=Sum("amount"))
        .order_by("-fiscal_year", "department__code")
    )
    return [
        Bundle(
            row["department__code"],
            row["department__name"],
            row["fiscal_year"],
            row["count"],
            Decimal(row["total"] or 0),
        )
        for row in rows
    ]
