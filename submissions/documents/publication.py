"""The publication bundle (公开文本) of a department's budget year: every approved text of
it, numbered （一）（二）… in the order the caller gives (project code, then id), each headed
as the sample is (the department's name, then 2025年部门预算重点领域财政项目文本（一）), with
its eight sections, its tables (the 资金明细 after 六) and its 项目支出绩效目标表.

What goes to the public has every telephone number redacted (`submissions.checks.PHONE`,
in the prose and in every cell) and no contact phone: `content.document_of(public=True)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from submissions.documents import word
from submissions.documents.content import TextDocument, document_of, ordinal
from submissions.documents.pdf import render_pdf


@dataclass(frozen=True)
class Part:
    heading: str  # 2025年部门预算重点领域财政项目文本（一）
    document: TextDocument


def parts_of(fiscal_year: int, texts: Sequence[Any]) -> list[Part]:
    return [
        Part(
            _("%(year)s年部门预算重点领域财政项目文本%(number)s")
            % {"year": fiscal_year, "number": ordinal(number)},
            document_of(text, public=True),
        )
        for number, text in enumerate(texts, start=1)
    ]


def bundle_title(department_name: str, fiscal_year: int) -> str:
    return _("%(department)s %(year)s年部门预算重点领域财政项目文本（公开）") % {
        "department": department_name,
        "year": fiscal_year,
    }


def publication_pdf(department_name: str, fiscal_year: int, texts: Sequence[Any]) -> bytes:
    return render_pdf(
        "submissions/documents/publication_pdf.html",
        {
            "title": bundle_title(department_name, fiscal_year),
            "parts": parts_of(fiscal_year, texts),
        },
    )


def publication_docx(department_name: str, fiscal_year: int, texts: Sequence[Any]) -> bytes:
    total = _("合计")
    out = word.new_document()
    out.core_properties.title = bundle_title(department_name, fiscal_year)
    for index, part in enumerate(parts_of(fiscal_year, texts)):
        if index:
            word.page_break(out)
        document = part.document
        word.run(out.add_paragraph(), document.department, font=word.HEADING_FONT, size=12)
        word.heading(out, part.heading, size=16, center=True)
        for section in document.sections:
            word.heading(out, section.heading, size=13)
            word.prose(out, section.body)
            for table in section.tables:
                word.data_table(out, table, total_label=total)
        word.targets(out, document, title=_("项目支出绩效目标表"), total_label=total)
    return word.saved(out)
