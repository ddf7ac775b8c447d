"""A project text as the documents that go out present it: its head (title, department,
year, amount in figures and in 大写), its project data, its eight sections each followed by
the tables that belong to it, and its 绩效目标 (the targets and the indicator table).

Every format (the 审批表 page, .docx, PDF, the publication bundle) renders a `TextDocument`,
so that they cannot disagree on what a text shows. The columns, labels and cell displays are
`submissions.tables`'; the section headings are `submissions.content`'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from submissions import amounts, tables
from submissions.checks import PHONE
from submissions.content import field_label, section_heading
from submissions.layout import AFTER_SECTION
from submissions.models import Category, Novelty
from submissions.sections import PROJECT_FIELDS, SECTION_FIELDS, TARGET_FIELDS
from submissions.text_rules import printable

# What stands where a telephone number was, in a text that goes to the public.
REDACTED = gettext_lazy("【已隐去】")
# The tables that follow a section, where every page puts them (submissions.layout). The
# indicators close the text with its targets instead (项目支出绩效目标表).
TABLES_AFTER: dict[str, tuple[str, ...]] = {
    section: tuple(name for name in names if name in tables.BY_FIELD and name != "indicators")
    for section, names in AFTER_SECTION.items()
}
# The project data, in the order the 审批表 lists it.
FACT_FIELDS: tuple[str, ...] = PROJECT_FIELDS
# Not for the public: how to reach the responsible person, and the draft's own flag.
UNPUBLISHED_FACTS = frozenset({"contact_phone", "for_publication"})


@dataclass(frozen=True)
class TableView:
    """One of a text's tables as a document prints it: headers and display cells, and the
    total of its amount column (the breakdown's 合计) where it has one."""

    field: str
    label: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # per column: right-aligned figures (amounts, weights)
    numeric: tuple[bool, ...]
    total: str = ""
    total_column: int = -1

    @property
    def labelled_rows(self) -> list[list[tuple[str, str, bool]]]:
        """Each row as (header, cell, numeric) triples: a template's cards label each cell."""
        return [list(zip(self.headers, row, self.numeric, strict=True)) for row in self.rows]

    @property
    def total_span(self) -> int:
        """How many columns the 合计 label spans (those before the amount column)."""
        return max(self.total_column, 1)

    @property
    def after_total(self) -> int:
        return len(self.headers) - self.total_column - 1


@dataclass(frozen=True)
class SectionView:
    field: str
    heading: str  # 六、资金安排情况
    label: str  # 资金安排情况
    body: str
    tables: tuple[TableView, ...]


@dataclass(frozen=True)
class TextDocument:
    pk: int | None
    title: str
    department: str
    fiscal_year: int
    amount: Decimal
    amount_text: str  # 1,751,800.00元
    in_words: str  # 壹佰柒拾伍万壹仟捌佰元整 (Chinese only: 大写 is Chinese by nature)
    facts: tuple[tuple[str, str], ...]
    sections: tuple[SectionView, ...]
    targets: tuple[tuple[str, str], ...]
    indicators: TableView | None

    @property
    def title_section(self) -> SectionView:
        return self.sections[0]

    @property
    def body_sections(self) -> tuple[SectionView, ...]:
        """二 to 八: the 审批表 names the project in its head."""
        return self.sections[1:]


def _fact(name: str, value: Any) -> str:
    if name == "category" and value:
        return str(Category(value).label)
    if name == "novelty" and value:
        return str(Novelty(value).label)
    if name == "for_publication":
        return _("是") if value else _("否")
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def table_view(
    table: tables.Table, rows: list[dict[str, Any]], clean: Callable[[str], str] = printable
) -> TableView:
    numeric = tuple(
        column.kind in (tables.Kind.AMOUNT, tables.Kind.NUMBER) for column in table.columns
    )
    amount_column = next(
        (i for i, column in enumerate(table.columns) if column.kind == tables.Kind.AMOUNT), -1
    )
    # The yearly amounts are the amount spread over years, not parts of it: no 合计.
    summed = amount_column >= 0 and table is tables.BREAKDOWN
    return TableView(
        field=table.field,
        label=str(table.label),
        headers=tuple(str(column.label) for column in table.columns),
        rows=tuple(
            tuple(
                clean(tables.display_cell(column, row.get(column.key))) for column in table.columns
            )
            for row in rows
        ),
        numeric=numeric,
        total=amounts.formatted(tables.total(rows)) if summed and rows else "",
        total_column=amount_column if summed else -1,
    )


def document_of(text: Any, *, public: bool = False) -> TextDocument:
    """`text` (a ProjectText, its department selected) as a document shows it. `public`: for the
    publication bundle: telephone numbers redacted everywhere, the contact phone left out."""
    redacted = str(REDACTED)

    def clean(value: str) -> str:
        value = printable(value or "")
        return PHONE.sub(redacted, value) if public else value

    sections = []
    for index, name in enumerate(SECTION_FIELDS):
        views = tuple(
            table_view(tables.BY_FIELD[field], getattr(text, field) or [], clean)
            for field in TABLES_AFTER.get(name, ())
            if getattr(text, field)
        )
        sections.append(
            SectionView(
                name, section_heading(index), field_label(name), clean(getattr(text, name)), views
            )
        )
    facts = tuple(
        (field_label(name), clean(_fact(name, getattr(text, name))))
        for name in FACT_FIELDS
        if not (public and name in UNPUBLISHED_FACTS)
    )
    amount = Decimal(text.amount or 0)
    return TextDocument(
        pk=getattr(text, "pk", None),
        title=clean(text.title),
        department=clean(text.department.name),
        fiscal_year=text.fiscal_year,
        amount=amount,
        amount_text=_("%(amount)s元") % {"amount": amounts.formatted(amount)},
        in_words=amounts.in_capitals(amount) if translation.get_language().startswith("zh") else "",
        facts=facts,
        sections=tuple(sections),
        targets=tuple((field_label(name), clean(getattr(text, name))) for name in TARGET_FIELDS),
        indicators=table_view(tables.INDICATORS, text.indicators, clean)
        if text.indicators
        else None,
    )


def ordinal(number: int) -> str:
    """（一）, （二）… as the county numbers its texts; (1), (2)… in other languages."""
    if translation.get_language().startswith("zh"):
        import cn2an

        return f"（{cn2an.an2cn(number)}）"
    return f"({number})"
