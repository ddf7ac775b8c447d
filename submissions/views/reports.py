"""报表: the finance bureau's figures of one fiscal year, as a page with charts, as CSV (one
file a table) and as an Excel workbook (one sheet a table).

The four tables are described once (`TABLES`: their columns, headers and values); the page,
the CSV and the workbook are written from that description, and the charts from the same
figures (`workflow.selectors.reports`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from submissions.amounts import formatted
from submissions.api import authority_of
from submissions.views.charts import BarChart, bar_chart
from workflow.csv_export import plain_cell, stream_csv
from workflow.exceptions import InvalidInput
from workflow.selectors.reports import (
    FinanceReport,
    finance_report,
    may_see_reports,
    report_years,
    year_asked,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    header: Any  # lazy: in the reader's language when written
    value: Callable[[Any], Any]  # the figure itself (a number, a Decimal, words)
    kind: str = "text"  # text, count, amount, days, percent or moment


@dataclass(frozen=True)
class ReportTable:
    key: str
    title: Any
    sheet: Any  # the workbook's sheet name (at most 31 characters)
    columns: tuple[Column, ...]
    rows: Callable[[FinanceReport], list[Any]]
    total: Callable[[FinanceReport], Any] | None = None


def _count_and_amount(name: Any) -> tuple[Column, ...]:
    return (
        Column(name, lambda t: t.label),
        Column(gettext_lazy("文本数（件）"), lambda t: t.count, "count"),
        Column(gettext_lazy("金额（元）"), lambda t: t.amount, "amount"),
    )


DEPARTMENTS = ReportTable(
    "departments",
    gettext_lazy("按部门统计"),
    gettext_lazy("按部门"),
    _count_and_amount(gettext_lazy("部门")),
    lambda r: r.departments,
    lambda r: r.total,
)
STATES = ReportTable(
    "states",
    gettext_lazy("按状态统计"),
    gettext_lazy("按状态"),
    _count_and_amount(gettext_lazy("状态")),
    lambda r: r.states,
    lambda r: r.total,
)


STAGES = ReportTable(
    "stages",
    gettext_lazy("各审核阶段用时和退回率"),
    gettext_lazy("各审核阶段"),
    (
        Column(gettext_lazy("审核阶段"), lambda f: f.name),
        Column(gettext_lazy("已结束停留（次）"), lambda f: f.stays, "count"),
        Column(gettext_lazy("平均停留（自然日）"), lambda f: f.average_days, "days"),
        Column(gettext_lazy("最长停留（自然日）"), lambda f: f.longest_days, "days"),
        Column(gettext_lazy("正在停留（件）"), lambda f: f.open_stays, "count"),
        Column(gettext_lazy("审核决定（次）"), lambda f: f.decisions, "count"),
        Column(gettext_lazy("退回（次）"), lambda f: f.returns, "count"),
        Column(gettext_lazy("退回率（%）"), lambda f: f.return_rate, "percent"),
    ),
    lambda r: r.stages,
)
REVIEWERS = ReportTable(
    "reviewers",
    gettext_lazy("各审核人待审核文本"),
    gettext_lazy("待审核"),
    (
        Column(gettext_lazy("审核人"), lambda r: r.name),
        Column(gettext_lazy("角色"), lambda r: "、".join(r.roles)),
        Column(gettext_lazy("待审核（件）"), lambda r: r.waiting, "count"),
        Column(gettext_lazy("最早送达"), lambda r: r.oldest, "moment"),
    ),
    lambda r: r.reviewers,
)
TABLES = {table.key: table for table in (DEPARTMENTS, STATES, STAGES, REVIEWERS)}


def _moment(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def shown(kind: str, value: Any) -> str:
    """A figure as the page writes it: amounts as 1,751,800.00元, nothing as a dash."""
    if value is None:
        return "—"
    if kind == "amount":
        return _("%(amount)s元") % {"amount": formatted(value)}
    if kind == "percent":
        return f"{value}%"
    if kind == "moment":
        return _moment(value)
    return str(value)


def exported(kind: str, value: Any) -> Any:
    """A figure as a file carries it: plain numbers (the unit is in the header), nothing
    as an empty cell."""
    if value is None:
        return ""
    if kind == "moment":
        return _moment(value)
    return value


def _cells(table: ReportTable, item: Any) -> list[dict[str, str]]:
    return [
        {"text": shown(c.kind, c.value(item)), "kind": c.kind, "label": str(c.header)}
        for c in table.columns
    ]


def _page_table(table: ReportTable, report: FinanceReport) -> dict[str, Any]:
    total = table.total(report) if table.total else None
    return {
        "key": table.key,
        "title": table.title,
        "headers": [(str(c.header), c.kind) for c in table.columns],
        "rows": [_cells(table, item) for item in table.rows(report)],
        "total": _cells(table, total) if total is not None else None,
        "csv_url": f"{reverse('report-csv', args=[table.key])}?year={report.year}",
    }


def export_rows(table: ReportTable, report: FinanceReport) -> Iterable[list[Any]]:
    """The table's rows as a file writes them, its total last."""
    items = list(table.rows(report))
    if table.total:
        items.append(table.total(report))
    for item in items:
        yield [exported(c.kind, c.value(item)) for c in table.columns]


# --- The charts -------------------------------------------------------------------------------


def _charts(report: FinanceReport) -> list[BarChart]:
    days = _("%(n)s天")
    return [
        bar_chart(
            "chart-departments",
            _("图1 各部门项目金额（元）"),
            [_("金额")],
            [(t.label, [(t.amount, shown("amount", t.amount))]) for t in report.departments],
        ),
        bar_chart(
            "chart-states",
            _("图2 各状态项目文本数（件）"),
            [_("文本数")],
            [(t.label, [(t.count, str(t.count))]) for t in report.states],
        ),
        bar_chart(
            "chart-stages",
            _("图3 各审核阶段停留天数（自然日）"),
            [_("平均停留"), _("最长停留")],
            [
                (
                    f.name,
                    [
                        (v, days % {"n": v} if v is not None else _("无已结束的停留"))
                        for v in (f.average_days, f.longest_days)
                    ],
                )
                for f in report.stages
            ],
        ),
    ]


# --- The views --------------------------------------------------------------------------------


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "forbidden_page.html",
        {"page": _("报表"), "who": _("报表供财政审核人、审批人、审计人和管理员查看。")},
        status=403,
    )


def _report(request: HttpRequest) -> FinanceReport | HttpResponse:
    """The report the request asks for, or the page that says why there is none."""
    authority = authority_of(request)
    if not may_see_reports(authority):
        return _forbidden(request)
    years = report_years(authority)
    try:
        year = year_asked(request.GET.get("year"), years)
    except InvalidInput as error:
        message = "；".join(str(m) for m in error.errors.get("year", []))
        return render(
            request,
            "submissions/error.html",
            {"message": _("预算年度：%(m)s") % {"m": message}},
            status=400,
        )
    return finance_report(authority, year, years)


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    report = _report(request)
    if isinstance(report, HttpResponse):
        return report
    years = list(report.years)
    if report.year is not None and report.year not in years:
        years = sorted({*years, report.year}, reverse=True)
    context = {
        "report": report,
        "years": years,
        "tables": {key: _page_table(table, report) for key, table in TABLES.items()},
        "charts": _charts(report),
        "xlsx_url": f"{reverse('report-xlsx')}?year={report.year}",
    }
    return render(request, "submissions/reports.html", context)


def _filename(report: FinanceReport, name: str) -> str:
    return f"report-{report.year or 'none'}-{name}"


@login_required
def report_csv(request: HttpRequest, table: str) -> HttpResponse:
    """One table of the report as CSV (UTF-8 with a byte-order mark, headers in the
    reader's language, totals last)."""
    if table not in TABLES:
        raise Http404
    report = _report(request)
    if isinstance(report, HttpResponse):
        return report
    described = TABLES[table]
    lines = stream_csv(
        [str(c.header) for c in described.columns], list(export_rows(described, report))
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, table)}.csv"'
    return response


def workbook(report: FinanceReport) -> bytes:
    """The report as an .xlsx: one sheet a table, headers in bold, figures as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in TABLES.values():
        sheet = book.create_sheet(str(table.sheet)[:31])
        sheet.append([str(c.header) for c in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in export_rows(table, report):
            # Words a person wrote (a department's name) stay words: never a formula.
            sheet.append([plain_cell(v) if isinstance(v, str) else v for v in row])
        for index, column in enumerate(table.columns, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = 24 if column.kind == "text" else 16
            if column.kind == "amount":
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = "#,##0.00"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@login_required
def report_xlsx(request: HttpRequest) -> HttpResponse:
    report = _report(request)
    if isinstance(report, HttpResponse):
        return report
    response = HttpResponse(workbook(report), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "all")}.xlsx"'
    return response
