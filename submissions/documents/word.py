"""Writing the documents as Word files (python-docx): A4, 仿宋/宋体-like body, 黑体-like
headings, bordered tables, as county forms are printed. Word picks the first of these fonts
the reader's machine has; the names are those of Windows and of WPS on a county desk."""

from __future__ import annotations

from io import BytesIO

import docx
from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from submissions.documents.content import TableView, TextDocument
from submissions.text_rules import printable

BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
TABLE_FONT = "宋体"
LATIN_FONT = "Times New Roman"


def new_document() -> Document:
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(25)
    section.left_margin = section.right_margin = Mm(22)
    normal = document.styles["Normal"]
    normal.font.size = Pt(12)
    _fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    return document


def _fonts(rpr: object, east_asian: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))  # type: ignore[attr-defined]
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)  # type: ignore[attr-defined]
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asian)
    # A theme font would take precedence over the one named.
    fonts.attrib.pop(qn("w:eastAsiaTheme"), None)


def run(paragraph: Paragraph, text: str, *, font: str = "", bold: bool = False, size: float = 0):
    written = paragraph.add_run(printable(text))
    written.bold = bold or None
    if size:
        written.font.size = Pt(size)
    if font:
        _fonts(written._element.get_or_add_rPr(), font)
    return written


def heading(document: Document, text: str, *, size: float = 14, center: bool = False) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.keep_with_next = True
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(paragraph, text, font=HEADING_FONT, bold=True, size=size)


def prose(container: Document | _Cell, text: str) -> None:
    """One paragraph per line of `text`, as the sample writes each paragraph on a line."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = True
    for line in lines:
        if isinstance(container, _Cell) and first:
            paragraph = container.paragraphs[0]
        else:
            paragraph = container.add_paragraph()
        first = False
        run(paragraph, line)


def page_break(document: Document) -> None:
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def bordered_table(document: Document, rows: int, columns: int) -> Table:
    table = document.add_table(rows=rows, cols=columns)
    table.style = document.styles["Table Grid"]  # single lines on every border
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    return table


def cell_text(
    cell: _Cell, text: str, *, bold: bool = False, right: bool = False, font: str = TABLE_FONT
) -> None:
    paragraph = cell.paragraphs[0]
    if right:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    lines = printable(text or "").replace("\r\n", "\n").split("\n")
    run(paragraph, lines[0], bold=bold, font=font, size=10.5)
    for line in lines[1:]:
        run(cell.add_paragraph(), line, font=font, size=10.5)


def _repeat_header(table: Table) -> None:
    """The header row repeats on every page a long table runs over."""
    properties = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def data_table(document: Document, view: TableView, *, total_label: str) -> Table:
    """A table of the text (资金明细, 绩效指标, …) with its label above it, a header row and,
    for the breakdown, its 合计 row."""
    caption = document.add_paragraph()
    caption.paragraph_format.keep_with_next = True
    run(caption, view.label, font=HEADING_FONT, bold=True, size=12)
    extra = 1 if view.total else 0
    table = bordered_table(document, len(view.rows) + 1 + extra, len(view.headers))
    for column, header in enumerate(view.headers):
        cell_text(table.cell(0, column), header, bold=True, font=HEADING_FONT)
    _repeat_header(table)
    for r, row in enumerate(view.rows, start=1):
        for column, value in enumerate(row):
            cell_text(table.cell(r, column), value, right=view.numeric[column])
    if view.total:
        last = len(view.rows) + 1
        label = table.cell(last, 0)
        if view.total_column > 1:
            label = label.merge(table.cell(last, view.total_column - 1))
        cell_text(label, total_label, bold=True)
        cell_text(table.cell(last, view.total_column), view.total, bold=True, right=True)
    return table


def label_value_table(document: Document, pairs: list[tuple[str, str]], per_row: int = 2) -> Table:
    """Label | value pairs, `per_row` pairs a row, as a form's head is laid out."""
    rows = -(-len(pairs) // per_row)
    table = bordered_table(document, rows, per_row * 2)
    for index, (label, value) in enumerate(pairs):
        r, c = divmod(index, per_row)
        cell_text(table.cell(r, 2 * c), label, bold=True, font=HEADING_FONT)
        cell_text(table.cell(r, 2 * c + 1), value)
    return table


def targets(document: Document, text: TextDocument, *, title: str, total_label: str) -> None:
    """The 项目支出绩效目标表: the project, its amount, the overall and annual targets, then
    the indicator table."""
    if not any(body for _label, body in text.targets) and text.indicators is None:
        return
    heading(document, title, size=13)
    pairs = [(label, body) for label, body in text.targets if body]
    if pairs:
        table = bordered_table(document, len(pairs), 2)
        for r, (label, body) in enumerate(pairs):
            cell_text(table.cell(r, 0), label, bold=True, font=HEADING_FONT)
            cell_text(table.cell(r, 1), body)
    if text.indicators is not None:
        data_table(document, text.indicators, total_label=total_label)


def saved(document: Document) -> bytes:
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
