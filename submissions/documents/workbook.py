"""The exchange workbook (.xlsx) for the county's budget system: one sheet of projects, one
of breakdown rows (资金明细), one of indicators (绩效指标).

Headers are the labels of `submissions.tables` and of the model's fields; amounts are
numbers with two places (number format #,##0.00), dates are dates, choices their labels.
Each project's breakdown rows end with a 合计 row holding their total as a number (not a
formula: a budget system or a script reading the file gets the figure without a spreadsheet
engine to compute it); it equals the project's amount, as the submit rule requires
(`content.check_for_submit`).

Every text cell is written as a string, never a formula, whatever it starts with: a title
"=HYPERLINK(…)" stays text.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from decimal import Decimal
from io import BytesIO
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from submissions import tables
from submissions.content import field_label
from submissions.text_rules import printable

MONEY = "#,##0.00"
NUMBER = "0.00"
DATE = "yyyy-mm-dd"
# The project's columns on the projects sheet, in order (the model's fields).
PROJECT_COLUMNS: tuple[str, ...] = (
    "project_code",
    "title",
    "department",
    "fiscal_year",
    "category",
    "novelty",
    "start_date",
    "end_date",
    "amount",
    "state",
)
# Every row of the breakdown and indicator sheets says whose it is.
OWNER_FIELDS: tuple[str, ...] = ("project_code", "title")


def _put(sheet: Worksheet, row: int, column: int, value: Any, number_format: str = "") -> Cell:
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = printable(value)
        cell.data_type = "s"  # never a formula, whatever the text starts with
    else:
        cell.value = value
    if number_format:
        cell.number_format = number_format
    return cell


def _header(sheet: Worksheet, labels: Iterable[str]) -> None:
    bold = Font(bold=True)
    for column, label in enumerate(labels, start=1):
        _put(sheet, 1, column, str(label)).font = bold
    sheet.freeze_panes = "A2"


def _widths(sheet: Worksheet, widths: Iterable[int]) -> None:
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def _cell_value(column: tables.Column, value: Any) -> tuple[Any, str]:
    """A table cell as Excel holds it: amounts and weights as numbers, dates as dates."""
    if value in (None, ""):
        return None, ""
    if column.kind == tables.Kind.AMOUNT:
        return Decimal(value), MONEY
    if column.kind == tables.Kind.NUMBER:
        return Decimal(value), NUMBER
    if column.kind == tables.Kind.DATE:
        return datetime.date.fromisoformat(value), DATE
    if column.kind == tables.Kind.YEAR:
        return int(value), ""
    return tables.display_cell(column, value), ""


def _owner(text: Any) -> list[Any]:
    return [text.pk, text.project_code, text.title]


def _project_row(text: Any, state_name: Callable[[Any], str]) -> list[tuple[Any, str]]:
    values: list[tuple[Any, str]] = [(text.pk, "")]
    for name in PROJECT_COLUMNS:
        if name == "department":
            values.append((text.department.name, ""))
        elif name == "state":
            values.append((state_name(text), ""))
        elif name in ("category", "novelty"):
            values.append((getattr(text, f"get_{name}_display")(), ""))
        elif name == "amount":
            values.append((Decimal(text.amount), MONEY))
        elif name in ("start_date", "end_date"):
            values.append((getattr(text, name), DATE))
        else:
            values.append((getattr(text, name), ""))
    return values


def _rows_sheet(
    sheet: Worksheet, texts: list[Any], table: tables.Table, *, total: bool = False
) -> None:
    owner_labels = [_("编号"), *(field_label(name) for name in OWNER_FIELDS)]
    _header(sheet, [*owner_labels, *(str(column.label) for column in table.columns)])
    first_column = len(owner_labels) + 1
    amount_at = first_column + next(
        (i for i, column in enumerate(table.columns) if column.kind == tables.Kind.AMOUNT), 0
    )
    row = 2
    for text in texts:
        rows = getattr(text, table.field) or []
        if not rows:
            continue
        for entry in rows:
            for column, value in enumerate(_owner(text), start=1):
                _put(sheet, row, column, value)
            for offset, column in enumerate(table.columns):
                value, number_format = _cell_value(column, entry.get(column.key))
                _put(sheet, row, first_column + offset, value, number_format)
            row += 1
        if total:
            for column, value in enumerate(_owner(text), start=1):
                _put(sheet, row, column, value)
            _put(sheet, row, first_column, _("合计")).font = Font(bold=True)
            _put(sheet, row, amount_at, tables.total(rows), MONEY).font = Font(bold=True)
            row += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(sheet.max_column)}{max(row - 1, 1)}"


def exchange_workbook(texts: Iterable[Any], *, state_name: Callable[[Any], str]) -> bytes:
    """The workbook of `texts` (with their departments selected). `state_name(text)` is the
    name of the text's state, as the pages show it."""
    texts = list(texts)
    book = Workbook()
    projects = book.active
    projects.title = _("项目")
    _header(projects, [_("编号"), *(field_label(name) for name in PROJECT_COLUMNS)])
    for row, text in enumerate(texts, start=2):
        for column, (value, number_format) in enumerate(_project_row(text, state_name), start=1):
            _put(projects, row, column, value, number_format)
    _widths(projects, (8, 22, 40, 30, 10, 14, 12, 12, 12, 18, 12))
    _rows_sheet(book.create_sheet(str(tables.BREAKDOWN.label)), texts, tables.BREAKDOWN, total=True)
    _widths(book.worksheets[1], (8, 22, 40, 30, 18, 50, 12))
    _rows_sheet(book.create_sheet(str(tables.INDICATORS.label)), texts, tables.INDICATORS)
    _widths(book.worksheets[2], (8, 22, 40, 12, 16, 36, 10, 12, 10, 10, 8))
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
