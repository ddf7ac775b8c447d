"""Write a project text as a Word document in the layout of the sample.

The layout is exactly what ``importer.parse_texts`` reads, so an exported file can be
edited in Word and imported again.
"""

from __future__ import annotations

import re
from io import BytesIO
from typing import Protocol

import docx
from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from submissions.sections import NUMERALS, SECTIONS

EAST_ASIAN_FONT = "宋体"
LATIN_FONT = "Times New Roman"

# Characters XML 1.0 cannot hold; python-docx refuses them, and a text edited through
# the API could contain them. Tab and line ends are handled separately.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class ExportableText(Protocol):
    """What an exported text needs: a model instance or a ``ParsedText`` will do."""

    @property
    def department_name(self) -> str: ...

    @property
    def fiscal_year(self) -> int: ...

    @property
    def title(self) -> str: ...

    @property
    def basis(self) -> str: ...

    @property
    def implementer(self) -> str: ...

    @property
    def overview(self) -> str: ...

    @property
    def content(self) -> str: ...

    @property
    def funding(self) -> str: ...

    @property
    def plan(self) -> str: ...

    @property
    def outcomes(self) -> str: ...


def render_docx(text: ExportableText) -> bytes:
    """The text as .docx bytes: department line, title line, then the eight sections."""
    document = docx.Document()
    _use_chinese_font(document)
    document.add_paragraph(_one_line(text.department_name))
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run(f"{text.fiscal_year}年部门预算重点领域财政项目文本").bold = True
    for numeral, (field, label) in zip(NUMERALS, SECTIONS, strict=True):
        document.add_paragraph().add_run(f"{numeral}、{label}").bold = True
        value = getattr(text, field) or ""  # a draft may leave sections unset
        if field == "title":
            value += "。"  # the sample writes the name as a sentence; import strips it again
        for line in _lines(value):
            document.add_paragraph(line)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


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
    return [_XML_ILLEGAL.sub("", line) for line in normalized.split("\n")]


def _one_line(value: str) -> str:
    return " ".join(_lines(value))
