"""Write a project text as a Word document in the layout of the sample, with its project
data, targets and tables.

The layout is exactly what ``importer.parse_texts`` reads, so an exported file can be
edited in Word and imported again, every field and row: after the eight sections come
项目信息 (a table of label | value pairs, the amount among them), 绩效目标 (likewise) and
each table of `submissions.tables` under its label, as a Word table whose header row is
its column labels. Labels are the document's language (Chinese) whatever the request's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from io import BytesIO
from typing import Any

import docx
from django.utils import translation
from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.table import _Cell

from submissions import amounts, tables
from submissions.content import field_label
from submissions.importer import (
    DOCUMENT_LANGUAGE,
    FLAG_WORDS,
    PROJECT_BLOCK,
    TARGETS_BLOCK,
)
from submissions.sections import NUMERALS, PROJECT_FIELDS, SECTIONS, TARGET_FIELDS
from submissions.text_rules import printable

EAST_ASIAN_FONT = "宋体"
LATIN_FONT = "Times New Roman"
TABLE_STYLE = "Table Grid"


def render_docx(department_name: str, content: Mapping[str, Any]) -> bytes:
    """The text as .docx bytes: department line, title line, the eight sections, then
    its project data, targets and tables. ``content`` holds the text's content fields
    (`submissions.sections.CONTENT_FIELDS`, as a model or ``ParsedText.values()`` gives
    them); one it lacks is written empty."""
    with translation.override(DOCUMENT_LANGUAGE):
        document = docx.Document()
        _use_chinese_font(document)
        document.add_paragraph(_one_line(department_name))
        title = document.add_paragraph()
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.add_run(f"{content['fiscal_year']}年部门预算重点领域财政项目文本").bold = True
        for numeral, (field, label) in zip(NUMERALS, SECTIONS, strict=True):
            _heading(document, f"{numeral}、{label}")
            value = content.get(field) or ""  # a draft may leave sections unset
            if field == "title":
                value += "。"  # the sample writes the name as a sentence; import strips it again
            for line in _lines(value):
                document.add_paragraph(line)
        _pairs(document, PROJECT_BLOCK, (*PROJECT_FIELDS, "amount"), content)
        _pairs(document, TARGETS_BLOCK, TARGET_FIELDS, content)
        for table in tables.TABLES:
            _table(document, table, content.get(table.field) or [])
        buffer = BytesIO()
        document.save(buffer)
    return buffer.getvalue()


def _heading(document: Document, text: str) -> None:
    document.add_paragraph().add_run(text).bold = True


def _pairs(
    document: Document, heading: str, names: Sequence[str], content: Mapping[str, Any]
) -> None:
    """A block of label | value rows, each a field of importer.BLOCK_FIELDS."""
    _heading(document, heading)
    grid = document.add_table(rows=len(names), cols=2)
    grid.style = TABLE_STYLE
    for row, name in zip(grid.rows, names, strict=True):
        _write(row.cells[0], field_label(name), bold=True)
        _write(row.cells[1], field_text(name, content.get(name)))


def field_text(name: str, value: Any) -> str:
    """A field of 项目信息 or 绩效目标 as the document writes it: a choice by its label,
    the amount with separators, 是 or 否."""
    from submissions.models import ProjectText

    if value is None or value == "":
        return ""
    if name == "amount":
        return amounts.formatted(
            value if not isinstance(value, str) else amounts.parse_amount(value)
        )
    if name == "for_publication":
        return FLAG_WORDS[bool(value)]
    choices = ProjectText._meta.get_field(name).choices
    if choices:
        return str(dict(choices).get(value, value))
    return str(value)


def _table(document: Document, table: tables.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """A table of `submissions.tables`: its label, then a header row of its column labels
    and a row per row, cells as a reader sees them (`tables.display_cell`)."""
    _heading(document, str(table.label))
    grid = document.add_table(rows=1 + len(rows), cols=len(table.columns))
    grid.style = TABLE_STYLE
    for cell, column in zip(grid.rows[0].cells, table.columns, strict=True):
        _write(cell, str(column.label), bold=True)
    for row, values in zip(grid.rows[1:], rows, strict=True):
        for cell, column in zip(row.cells, table.columns, strict=True):
            _write(cell, tables.display_cell(column, values.get(column.key)))


def _write(cell: _Cell, value: str, *, bold: bool = False) -> None:
    """A cell's text, a paragraph a line, as the importer reads a cell."""
    lines = _lines(value)
    for index, line in enumerate(lines):
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        if line:
            paragraph.add_run(line).bold = bold or None


def _use_chinese_font(document: Document) -> None:
    """Give the Normal style an East-Asian font; without it Word may pick a font that
    lacks many Chinese characters."""
    style = document.styles["Normal"]
    style.font.name = LATIN_FONT  # creates <w:rFonts> with ascii/hAnsi
    fonts = style.element.rPr.rFonts
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    # A theme font attribute would take precedence over the explicit one.
    fonts.attrib.pop(qn("w:eastAsiaTheme"), None)


def _lines(value: str) -> list[str]:
    """One paragraph per line, as the importer reads one line per paragraph."""
    normalized = value.replace("\r\n", "\n").replace("\r", "\n")
    return [printable(line) for line in normalized.split("\n")]


def _one_line(value: str) -> str:
    return " ".join(_lines(value))
