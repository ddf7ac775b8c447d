"""The 审批表 (项目文本审批表) of one text: its head (project, department, year, amount and
大写), its project data, the eight sections each with its tables (资金明细 with its 合计,
分年度资金, milestones), its 绩效目标 (targets and indicators), then one row per stage of its
workflow with each opinion, signer and date. The same context feeds the page
(`/texts/<id>/approval-form/`), the PDF and, through `approval_sheet_docx`, Word.

The stage rows are the caller's (`workflow.selectors.approval_form.stage_rows`): this
module only lays them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from django.utils import timezone
from django.utils.translation import gettext as _

from submissions.documents import word
from submissions.documents.content import TextDocument, document_of
from submissions.documents.pdf import render_pdf


class Signature(Protocol):
    opinion: str
    signer: str
    date: datetime


class StageRow(Protocol):
    code: str
    name: str
    applies: bool
    signatures: Sequence[Signature]


def approval_sheet_context(text: Any, stages: Sequence[StageRow]) -> dict[str, Any]:
    document = document_of(text)
    return {
        "text": text,
        "document": document,
        "title": _("%(year)s年度部门预算项目审批表") % {"year": text.fiscal_year},
        "stages": stages,
    }


def approval_sheet_pdf(text: Any, stages: Sequence[StageRow]) -> bytes:
    return render_pdf(
        "submissions/documents/approval_sheet_pdf.html", approval_sheet_context(text, stages)
    )


def _date(moment: datetime) -> str:
    return timezone.localtime(moment).date().isoformat()


def approval_sheet_docx(text: Any, stages: Sequence[StageRow]) -> bytes:
    context = approval_sheet_context(text, stages)
    document: TextDocument = context["document"]
    total = _("合计")
    out = word.new_document()
    word.heading(out, context["title"], size=16, center=True)

    amount = document.amount_text
    if document.in_words:
        amount += f"\n{_('大写')}{_('：')}{document.in_words}"
    word.label_value_table(
        out,
        [
            (document.title_section.label, document.title),
            (_("申报单位（部门）"), document.department),
            (_("年度"), str(document.fiscal_year)),
            (_("金额"), amount),
            *document.facts,
        ],
    )
    for section in document.body_sections:
        word.heading(out, section.heading, size=13)
        word.prose(out, section.body)
        for table in section.tables:
            word.data_table(out, table, total_label=total)
    word.targets(out, document, title=_("项目支出绩效目标表"), total_label=total)

    word.heading(out, _("审核意见"), size=13)
    rows = sum(max(len(stage.signatures), 1) for stage in stages)
    table = word.bordered_table(out, rows + 1, 4)
    for column, header in enumerate((_("审核环节"), _("审核意见"), _("签字"), _("日期"))):
        word.cell_text(table.cell(0, column), header, bold=True, font=word.HEADING_FONT)
    row = 1
    for stage in stages:
        first = row
        for signature in stage.signatures:
            word.cell_text(table.cell(row, 1), signature.opinion)
            word.cell_text(table.cell(row, 2), signature.signer)
            word.cell_text(table.cell(row, 3), _date(signature.date))
            row += 1
        if not stage.signatures:
            if not stage.applies:
                word.cell_text(table.cell(row, 1), _("本项目金额无需此环节"))
            row += 1
        name = table.cell(first, 0)
        if row - first > 1:
            name = name.merge(table.cell(row - 1, 0))
        word.cell_text(name, stage.name, bold=True)
    foot = out.add_paragraph()
    word.run(
        foot,
        _("项目文本编号 %(id)s · 版本 %(v)s · 第 %(r)s 次提交")
        % {"id": text.pk, "v": text.version, "r": text.revision},
        size=9,
    )
    return word.saved(out)
