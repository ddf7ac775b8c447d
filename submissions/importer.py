"""Read budget project texts (部门预算重点领域财政项目文本) from .txt and .docx files.

A file holds one or more texts. Each text is a department line, a title line carrying the
fiscal year, then eight numbered sections (see ``SECTIONS``). A heading is numbered 一、 (or
一. / 一．), its label may be spaced out and followed by a colon, and the section's first
line may stand on the heading's own line (``一、项目名称：新平县…``).

After section 八 a text may carry blocks of structured content, each under a line that is
only its heading (a colon after it is allowed):

* ``项目信息`` and ``绩效目标``: lines ``标签：值`` whose labels are the field labels of
  the project data, the targets and the amount (``项目编码：530427-2025-ZZB-001``,
  ``拟公开：是``, ``总体目标：…``, ``金额（元）：1,751,800.00``); a target may go on over
  the following lines. A label may drop a trailing parenthesis (``总体目标``, ``金额``).
* a table's label from `submissions.tables` (``资金明细``, ``绩效指标``, …): a header row of
  that table's column labels, in any order, separated by tabs or by ``|``/``｜`` (a row
  written ``| a | b |`` loses its outer bars), then one row per line, cells likewise.

In a .docx the same blocks may be paragraphs, and Word tables are read too: a table whose
header row (below an optional title row) carries a table's column labels is that table;
a table of label | value pairs gives project data and targets. A Word table belongs to
the text it stands in (or after). Choices are read by label (本级财政, 产出指标, 年度) or
code, amounts as people write them (1,751,800元, 175.18万元, full-width digits), dates as
2025-09-01, 2025/9/1 or 2025年9月1日. An amount given in 项目信息 is the text's amount;
otherwise it is the largest amount in 六's prose.

Everything a user can upload must end in parsed texts, in an ``ImportFormatError`` whose
message names the offending line (or Word table and row; the API answers 400), or in
``TooLarge`` naming the limit it exceeds (413), never in a 500; and reading any file the
upload limit admits must take bounded time and memory (``ImportLimits``).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO
from typing import Any, NoReturn

import docx
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from lxml import etree

from submissions import amounts, tables
from submissions.content import clean_content, field_label, inconsistencies
from submissions.errors import InvalidInput, TooLarge
from submissions.sections import (
    FUNDING_INDEX,
    NUMERALS,
    PROJECT_FIELDS,
    SECTION_FIELDS,
    SECTIONS,
    TARGET_FIELDS,
)
from submissions.tables import Kind, Table

MAX_INTEGER_DIGITS = amounts.INTEGER_DIGITS  # the database column's digits before the point

NO_TEXT = "文件中没有找到项目文本"
NOT_DOCX = "不是有效的 .docx 文件"
TITLE_EXAMPLE = "应为标题行，如“2025年部门预算重点领域财政项目文本”"

# Word-to-text converters leave bookmark markers such as "[bookmark: _GoBack]" behind.
# A marker holds no "[": stopping there keeps a line of many unclosed "[bookmark:" linear.
_DEBRIS = re.compile(r"\[bookmark:[^\][]*\]", re.IGNORECASE)
# Invisible characters that editors insert and that would defeat heading matching.
_INVISIBLE = str.maketrans("", "", "\ufeff\u200b\u200c\u200d\u2060")
# A top-level number: 一、 as the sample writes it, or 一. / 一． as other keyboards type it.
_NUMBERING = r"\s*[、.．]\s*"


def _spaced(label: str) -> str:
    """A label as a pattern that also matches it spaced out (项 目 名 称), as forms do."""
    return r"\s*".join(re.escape(character) for character in label)


# A heading: numeral, label, then nothing, a colon, or the section's first line after a
# colon or a space ("一、项目名称：新平县…"). A label run on into text is no heading.
_HEADING = re.compile(
    r"^([一二三四五六七八])"
    + _NUMBERING
    + "("
    + "|".join(_spaced(label) for _f, label in SECTIONS)
    + r")(?:\s*[:：]\s*|\s+|$)(.*)$"
)
# A top-level heading numbered past 八 (九 to 九十九): the text has only eight sections.
# Sub-points inside sections are written （一）, 1. or （1）, which this does not match.
_EXTRA_HEADING = re.compile(
    r"^(?:九|十[一二三四五六七八九]?|[二三四五六七八九]十[一二三四五六七八九]?)" + _NUMBERING
)
# Years and amounts are ASCII digits only: `\d` would also take Arabic-Indic, Devanagari
# and full-width digits, which nobody writes an amount in. The look-behinds still use
# `\d` so that a match never starts inside a longer number of any script.
_YEAR = re.compile(r"(?<!\d)([0-9]{4})\s*年")
# How an amount is written (comma-grouped or plain, its units) is `submissions.amounts`'.
_AMOUNT = amounts.IN_PROSE
_SHOWN_CHARS = 30  # of a line quoted in an error message


class ImportFormatError(ValueError):
    """The uploaded file is not in the project-text format; ``line`` is 1-based or None."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(line, message)
        self.line = line
        self.message = message

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"第{self.line}行：{self.message}"


@dataclass(frozen=True)
class ParsedText:
    department_name: str
    fiscal_year: int
    title: str
    basis: str
    implementer: str
    overview: str
    content: str
    funding: str
    plan: str
    outcomes: str
    amount: Decimal
    first_line: int
    # Everything else a file gave (project data, targets, tables), as the API would take it.
    structured: dict[str, Any] = dataclasses.field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        """The content to create the draft from, for `submissions.content.clean_content`."""
        prose = {name: getattr(self, name) for name in (*SECTION_FIELDS, "amount", "fiscal_year")}
        return {**prose, **self.structured}


def heading_label(index: int) -> str:
    """The heading as written in the document, e.g. ``三、项目实施单位``."""
    return f"{NUMERALS[index]}、{SECTIONS[index][1]}"


@dataclass(frozen=True)
class ImportLimits:
    """What one file may hold (config/settings.py, "Limits"). Every reader checks them as
    early as it can and refuses with ``TooLarge`` naming the limit."""

    inflated_bytes: int  # a .docx's parts together, once inflated
    parts: int  # members of a .docx's zip archive
    xml_elements: int  # elements in a .docx's XML, which python-docx holds as a tree
    lines: int  # lines of a .txt, or paragraphs and line breaks of a .docx
    texts: int  # project texts in one file, each of which becomes a draft

    @classmethod
    def from_settings(cls) -> ImportLimits:
        return cls(
            inflated_bytes=settings.IMPORT_MAX_INFLATED_BYTES,
            parts=settings.IMPORT_MAX_PARTS,
            xml_elements=settings.IMPORT_MAX_XML_ELEMENTS,
            lines=settings.IMPORT_MAX_LINES,
            texts=settings.IMPORT_MAX_TEXTS,
        )


def parse_texts(data: bytes, filename: str, limits: ImportLimits | None = None) -> list[ParsedText]:
    """Parse an uploaded file; the extension decides how its bytes are read. Without
    ``limits``, those of the settings apply: every caller (API, page, commands) gets the
    same ones from here."""
    limits = limits or ImportLimits.from_settings()
    name = filename.lower()
    word_tables: list[WordTable] = []
    if name.endswith(".txt"):
        lines = _txt_lines(data)
    elif name.endswith(".docx"):
        lines, word_tables = _docx_content(data, limits)
    else:
        raise ImportFormatError(None, "只能导入 .txt 或 .docx 文件")
    return parse_lines(lines, limits, word_tables)


def parse_lines(
    lines: list[str], limits: ImportLimits | None = None, word_tables: Sequence[WordTable] = ()
) -> list[ParsedText]:
    """Parse texts from lines (and the Word tables standing among them); line numbers in
    errors are positions in ``lines`` + 1."""
    limits = limits or ImportLimits.from_settings()
    if len(lines) > limits.lines:
        raise _too_many_lines(limits)
    rows = [_clean(line) for line in lines]
    start = _next_nonblank(rows, 0)
    if start is None:
        raise ImportFormatError(None, NO_TEXT)
    if _next_heading(rows, start) is None:
        raise _no_heading_error(rows, start)
    texts: list[ParsedText] = []
    source = _Source(lines, rows)
    while start is not None:
        if len(texts) == limits.texts:
            # Stop here: parsing the rest would only cost time, and the drafts are created
            # after the whole file has parsed, so none is.
            raise TooLarge(
                _("文件中的项目文本过多：每个文件最多 %(n)d 份，第%(line)d行起是第 %(k)d 份。")
                % {"n": limits.texts, "line": start + 1, "k": limits.texts + 1}
            )
        text, start = _parse_one(source, start, word_tables, first=not texts)
        texts.append(text)
    return texts


def _too_many_lines(limits: ImportLimits) -> TooLarge:
    return TooLarge(_("文件行数过多：每个文件最多 %(n)d 行。") % {"n": limits.lines})


# --- reading files -------------------------------------------------------------------


def _txt_lines(data: bytes) -> list[str]:
    # A NUL byte means a binary file (or UTF-16), which GB18030 might still "decode".
    if b"\x00" in data:
        raise ImportFormatError(None, "文件不是 UTF-8 或 GB18030 编码的文本")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ImportFormatError(None, "文件不是 UTF-8 或 GB18030 编码的文本") from None
    # Split only on line ends so numbers match what an editor shows (str.splitlines
    # would also split on form feeds and Unicode separators).
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


# Word writes its parts stored or deflated. Other methods are refused: zipfile inflates
# bzip2 and lzma members with no bound on the output of one call.
_WORD_COMPRESSION = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
# General purpose flags zipfile cannot read a member with (encrypted, patched data, strong
# encryption): it would raise RuntimeError or NotImplementedError. Word sets none of them.
_UNREADABLE_FLAGS = 0x1 | 0x20 | 0x40
# How much one read of a member asks zlib for; it bounds what one call can inflate.
_READ_CHUNK = 64 * 1024
# What zipfile or python-docx may raise on a damaged package (zipfile raises
# NotImplementedError for features and versions it does not know).
_DAMAGED = (
    PackageNotFoundError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    zlib.error,
    EOFError,
    KeyError,
    ValueError,
    etree.LxmlError,
)
_W_BODY, _W_P, _W_R, _W_HYPERLINK = qn("w:body"), qn("w:p"), qn("w:r"), qn("w:hyperlink")
# The text python-docx gives each element of a run's content (CT_R.text); a page or
# column break gives "" (see _runs_text).
_RUN_CONTENT = {
    qn("w:tab"): "\t",
    qn("w:ptab"): "\t",
    qn("w:cr"): "\n",
    qn("w:noBreakHyphen"): "-",
}
_W_T, _W_BR, _W_TYPE = qn("w:t"), qn("w:br"), qn("w:type")


@dataclass(frozen=True)
class WordTable:
    """A table of a .docx body, as text: ``number`` counts the document's tables from 1,
    ``position`` is how many lines stand before it (so the text it belongs to is known)."""

    number: int
    position: int
    rows: tuple[tuple[str, ...], ...]


_W_TBL, _W_TR, _W_TC, _W_TCPR = qn("w:tbl"), qn("w:tr"), qn("w:tc"), qn("w:tcPr")
_W_GRIDSPAN, _W_VMERGE, _W_VAL = qn("w:gridSpan"), qn("w:vMerge"), qn("w:val")


def _docx_content(data: bytes, limits: ImportLimits) -> tuple[list[str], list[WordTable]]:
    """The body's paragraphs as lines, and its tables (their rows count as lines against
    the limit)."""
    package = _bounded_package(data, limits)
    lines: list[str] = []
    word_tables: list[WordTable] = []
    table_rows = 0
    try:
        document = docx.Document(BytesIO(package))
        body = document.element.find(_W_BODY)
        for child in [] if body is None else body.iterchildren(_W_P, _W_TBL):
            if child.tag == _W_P:
                # A soft line break inside a paragraph reads as "\n"; it is a line of its own.
                lines.extend(_paragraph_text(child).split("\n"))
            else:
                rows = _table_rows(child)
                table_rows += len(rows)
                word_tables.append(WordTable(len(word_tables) + 1, len(lines), rows))
            if len(lines) + table_rows > limits.lines:
                break  # refused below; reading on would only cost time
    except _DAMAGED:
        raise ImportFormatError(None, NOT_DOCX) from None
    if len(lines) + table_rows > limits.lines:
        raise _too_many_lines(limits)
    return lines, word_tables


def _table_rows(table: etree._Element) -> tuple[tuple[str, ...], ...]:
    """A Word table's rows of cell texts (a cell's paragraphs joined by line ends). A cell
    spanning columns is one cell; a cell merged with the one above (a 一级指标 written once
    for its rows) repeats that one's text. Tables nested in cells are not read."""
    rows = []
    above: dict[int, str] = {}  # grid column -> text of the cell last seen there
    for row in table.iterchildren(_W_TR):
        cells = []
        column = 0
        for cell in row.iterchildren(_W_TC):
            span, continues = 1, False
            properties = cell.find(_W_TCPR)
            if properties is not None:
                grid_span = properties.find(_W_GRIDSPAN)
                value = "" if grid_span is None else grid_span.get(_W_VAL, "")
                span = int(value) if value.isascii() and value.isdigit() and len(value) < 4 else 1
                merge = properties.find(_W_VMERGE)
                continues = merge is not None and merge.get(_W_VAL, "continue") != "restart"
            if continues:
                text = above.get(column, "")
            else:
                text = "\n".join(
                    _clean(line)
                    for paragraph in cell.iterchildren(_W_P)
                    for line in _paragraph_text(paragraph).split("\n")
                ).strip()
            above[column] = text
            cells.append(text)
            column += max(span, 1)
        rows.append(tuple(cells))
    return tuple(rows)


def _bounded_package(data: bytes, limits: ImportLimits) -> bytes:
    """The .docx re-packed with its parts stored, once every limit is known to hold.

    The central directory is checked first (part count, declared sizes, methods), so a zip
    bomb is refused before anything is inflated. A member's declared size cannot be
    trusted to bound the work, though. CPython's ZipExtFile (zipfile.py, ``_read1``) does
    stop a member at its declared ``file_size`` (``data = data[:self._left]``), but only
    after inflating: ``read()`` without a size asks zlib for up to ``MAX_N`` (1 GiB) in
    one call, which is how ``ZipFile.read`` and so python-docx read parts. So members are
    read here in ``_READ_CHUNK`` calls, each inflating at most that much, counted against
    the limit as they come, and python-docx is given the result uncompressed: it never
    inflates anything itself.
    """
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        members = archive.infolist()
    except _DAMAGED:
        raise ImportFormatError(None, NOT_DOCX) from None
    if len(members) > limits.parts:
        raise TooLarge(_(".docx 文件的部件过多：最多 %(n)d 个。") % {"n": limits.parts})
    names = {member.filename for member in members}
    if len(names) < len(members) or any(
        member.compress_type not in _WORD_COMPRESSION or member.flag_bits & _UNREADABLE_FLAGS
        for member in members
    ):
        raise ImportFormatError(None, NOT_DOCX)
    if sum(member.file_size for member in members) > limits.inflated_bytes:
        raise _inflated_too_large(limits)
    budget = _Budget(limits)
    output = BytesIO()
    try:
        with zipfile.ZipFile(output, "w", zipfile.ZIP_STORED) as package:
            for member in members:
                with archive.open(member) as source, package.open(member.filename, "w") as target:
                    while chunk := source.read(_READ_CHUNK):
                        budget.spend(chunk)
                        target.write(chunk)
    except _DAMAGED:
        raise ImportFormatError(None, NOT_DOCX) from None
    return output.getvalue()


class _Budget:
    """Counts what has been inflated against the limits, as it is inflated."""

    def __init__(self, limits: ImportLimits) -> None:
        self.limits = limits
        self.inflated = 0
        self.elements = 0

    def spend(self, chunk: bytes) -> None:
        # Declared sizes were checked, and zipfile stops at them; counting again keeps the
        # bound whatever a future zipfile does.
        self.inflated += len(chunk)
        if self.inflated > self.limits.inflated_bytes:
            raise _inflated_too_large(self.limits)
        # Every element starts with "<" not followed by "/" (an end tag). Binary parts
        # count too, since python-docx parses a part by its declared content type, not
        # its name; a "</" split between chunks only makes the count higher.
        self.elements += chunk.count(b"<") - chunk.count(b"</")
        if self.elements > self.limits.xml_elements:
            raise TooLarge(
                _(".docx 文件的内容结构过于复杂：最多 %(n)d 个 XML 元素。")
                % {"n": self.limits.xml_elements}
            )


def _inflated_too_large(limits: ImportLimits) -> TooLarge:
    return TooLarge(_(".docx 文件解压后过大：最多 %(n)d 字节。") % {"n": limits.inflated_bytes})


def _paragraph_text(paragraph: etree._Element) -> str:
    """What python-docx's ``Paragraph.text`` gives (CT_P.text: the runs and hyperlinks),
    without its XPath query per paragraph and per run, which costs ~30 µs an element."""
    return "".join(_runs_text(_runs_of(paragraph)))


def _runs_of(paragraph: etree._Element) -> Iterable[etree._Element]:
    for child in paragraph:
        if child.tag == _W_R:
            yield child
        elif child.tag == _W_HYPERLINK:
            yield from child.iterchildren(_W_R)


def _runs_text(runs: Iterable[etree._Element]) -> Iterable[str]:
    for run in runs:
        for item in run:
            tag = item.tag
            if tag == _W_T:
                yield item.text or ""
            elif tag == _W_BR:
                # Only a line break (the default type) is a new line; page and column
                # breaks are not text.
                if item.get(_W_TYPE, "textWrapping") == "textWrapping":
                    yield "\n"
            elif tag in _RUN_CONTENT:
                yield _RUN_CONTENT[tag]


def _clean(line: str) -> str:
    return _DEBRIS.sub("", line.translate(_INVISIBLE)).strip()


# --- structure -----------------------------------------------------------------------


def _heading(row: str) -> tuple[int, str] | None:
    """Which section heading ``row`` is, if it is one (numeral and label must agree), and
    what follows it on its line."""
    match = _HEADING.match(row)
    if match is None:
        return None
    index = NUMERALS.index(match.group(1))
    if SECTIONS[index][1] != "".join(match.group(2).split()):
        return None
    return index, match.group(3).strip()


def _heading_index(row: str) -> int | None:
    found = _heading(row)
    return None if found is None else found[0]


def _looks_like_title(row: str) -> bool:
    # Department lines carry neither a year nor the words 项目文本, content lines rarely
    # sit directly above a heading 一; this is only used to find where a text begins.
    return "项目文本" in row or _YEAR.search(row) is not None


def _next_nonblank(rows: list[str], index: int) -> int | None:
    return next((i for i in range(index, len(rows)) if rows[i]), None)


def _next_heading(rows: list[str], index: int) -> int | None:
    return next((i for i in range(index, len(rows)) if _heading_index(rows[i]) is not None), None)


def _nonblank_between(rows: list[str], start: int, stop: int) -> list[int]:
    return [i for i in range(start, stop) if rows[i]]


def _no_heading_error(rows: list[str], start: int) -> ImportFormatError:
    """No heading anywhere: say what is missing if the file at least starts like a text."""
    header = _nonblank_between(rows, start, len(rows))[:2]
    if len(header) == 2 and _YEAR.search(rows[header[1]]):
        return ImportFormatError(header[1] + 2, f"缺少“{heading_label(0)}”")
    return ImportFormatError(None, NO_TEXT)


@dataclass(frozen=True)
class _Source:
    lines: list[str]  # as read: a table row's cells are split on its tabs
    rows: list[str]  # cleaned: what headings and prose are read from


def _parse_one(
    source: _Source, start: int, word_tables: Sequence[WordTable], *, first: bool
) -> tuple[ParsedText, int | None]:
    """Parse the text whose first non-blank line is ``start``; also return where the next
    text starts (None at the end of the file). ``first``: the first text of the file."""
    rows = source.rows
    first_heading = _next_heading(rows, start)
    if first_heading is None:  # callers only start a text above a heading
        raise ImportFormatError(None, NO_TEXT)
    header = _nonblank_between(rows, start, first_heading)
    department, year = _read_header(rows, header, first_heading)
    _expect_heading(rows, first_heading, 0)

    values: dict[str, str] = {}
    funding = (first_heading, first_heading)
    heading = first_heading
    next_start = None
    text_end = len(rows)
    for index, (field, _label) in enumerate(SECTIONS):
        is_last = index == len(SECTIONS) - 1
        if is_last:
            text_end, next_start = _last_section_end(rows, heading)
            end = _blocks_start(rows, heading + 1, text_end)
        else:
            end = _section_end(rows, heading)
        # Checked in this order so the error names the earliest problem in the sections.
        values[field] = _section_value(rows, heading, end, index)
        if index == FUNDING_INDEX:
            funding = (heading, end)
        if not is_last:
            _expect_heading(rows, end, index + 1)
        heading = end

    found = _Found()
    _read_blocks(source, end, text_end, found)  # from where 八 ends
    for table in word_tables:
        # A Word table belongs to the text it stands in or after; one above the first
        # department line, to the first text.
        if (first or table.position > start) and (
            next_start is None or table.position <= next_start
        ):
            _read_word_table(table, found)
    structured, amount = found.finish()
    text = ParsedText(
        department_name=department,
        fiscal_year=year,
        # An amount the text states as a field is its amount; otherwise 六's prose says it.
        amount=_find_amount(rows, *funding) if amount is None else amount,
        first_line=start + 1,
        structured=structured,
        **values,
    )
    return text, next_start


def _read_header(rows: list[str], header: list[int], heading: int) -> tuple[str, int]:
    """Check the department and title lines above heading 一; return the name and year."""
    if not header:
        raise ImportFormatError(heading + 1, "缺少部门名称行和标题行")
    title_at = next((i for i in header if _looks_like_title(rows[i])), None)
    if len(header) == 1:
        if title_at is not None:
            raise ImportFormatError(title_at + 1, "标题行之前缺少部门名称行")
        # Only a department line: the heading sits where the title should be.
        raise ImportFormatError(heading + 1, TITLE_EXAMPLE)
    if len(header) > 2 and title_at is not None:
        _fail_extra_header_lines(header, title_at)
    department_at, title_line = header[-2], header[-1]
    if _looks_like_title(rows[department_at]):
        raise ImportFormatError(department_at + 1, "应为部门名称行")
    year = _YEAR.search(rows[title_line])
    if year is None:
        raise ImportFormatError(title_line + 1, TITLE_EXAMPLE)
    return rows[department_at], int(year.group(1))


def _fail_extra_header_lines(header: list[int], title_at: int) -> NoReturn:
    """More than a department and a title line above heading 一: say which lines are extra."""
    position = header.index(title_at)
    if position == 0:
        raise ImportFormatError(title_at + 1, "标题行之前缺少部门名称行")
    if position == 1:
        raise ImportFormatError(header[2] + 1, f"标题行之后应为“{heading_label(0)}”")
    raise ImportFormatError(
        header[0] + 1, "部门名称行之前有多余的内容，每篇文本应以部门名称行和标题行开头"
    )


def _section_end(rows: list[str], heading: int) -> int:
    """Index of the next heading after ``heading``, or the end of the file."""
    found = _next_heading(rows, heading + 1)
    return len(rows) if found is None else found


def _last_section_end(rows: list[str], heading: int) -> tuple[int, int | None]:
    """Where section 八 ends and the next text starts.

    Section 八 runs until the department and title lines of the next text, which sit
    right above that text's heading 一; without a next heading it runs to the end.
    """
    found = _next_heading(rows, heading + 1)
    _refuse_ninth_section(rows, heading + 1, len(rows) if found is None else found)
    if found is None:
        return len(rows), None
    above = _nonblank_between(rows, heading + 1, found)
    if above and _looks_like_title(rows[above[-1]]):
        start = _next_text_start(above)
        return start, start
    if _heading_index(rows[found]) == 0:
        raise ImportFormatError(found + 1, TITLE_EXAMPLE)
    last = heading_label(len(SECTIONS) - 1)
    raise ImportFormatError(
        found + 1,
        f"“{rows[found]}”重复或顺序不对，“{last}”之后只能是下一篇文本的部门名称行和标题行",
    )


def _refuse_ninth_section(rows: list[str], start: int, stop: int) -> None:
    """Refuse a heading numbered past 八 between ``start`` and ``stop`` (section 八 and
    whatever follows it up to the next heading), which would otherwise be read as part
    of 八."""
    extra = next((i for i in range(start, stop) if _EXTRA_HEADING.match(rows[i])), None)
    if extra is None:
        return
    row = rows[extra]
    shown = row if len(row) <= _SHOWN_CHARS else row[:_SHOWN_CHARS] + "…"
    raise ImportFormatError(
        extra + 1,
        _("项目文本只有八个部分，“%(last)s”之后不能再有“%(row)s”。")
        % {"last": heading_label(len(SECTIONS) - 1), "row": shown},
    )


def _next_text_start(above: list[int]) -> int:
    """The department line of the next text, given the non-blank rows between heading 八
    and the next heading 一, the last of which is a title line."""
    if len(above) == 1:
        return above[0]  # 八 is empty, which is reported as the first problem
    department = above[-2]
    if len(above) == 2 and department != above[-1] - 1:
        # Either 八 is empty or the department line is missing. The department line sits
        # directly above the title, so a blank line between them points to the latter.
        raise ImportFormatError(above[-1] + 1, "标题行之前缺少部门名称行")
    return department


def _expect_heading(rows: list[str], at: int, expected: int) -> None:
    """Raise unless row ``at`` is the heading of section ``expected``."""
    want = heading_label(expected)
    if at >= len(rows):
        last = max(i for i, row in enumerate(rows) if row)
        raise ImportFormatError(last + 2, f"缺少“{want}”（文件已结束）")
    actual = _heading_index(rows[at])
    if actual == expected:
        return
    if actual is not None and actual > expected:
        raise ImportFormatError(at + 1, f"缺少“{want}”（此处是“{heading_label(actual)}”）")
    raise ImportFormatError(at + 1, f"“{rows[at]}”重复或顺序不对，此处应为“{want}”")


def _section_value(rows: list[str], heading: int, end: int, index: int) -> str:
    """The section's lines (the heading's own, then those up to ``end``), without blank
    edges."""
    found = _heading(rows[heading])
    inline = found[1] if found else ""
    lines = [inline, *rows[heading + 1 : end]] if inline else rows[heading + 1 : end]
    first, stop = 0, len(lines)
    while first < stop and not lines[first]:
        first += 1
    while stop > first and not lines[stop - 1]:
        stop -= 1
    value = "\n".join(lines[first:stop])
    if index == 0:
        # The title is a name; the sample ends it with a full stop like a sentence.
        value = value.removesuffix("。")
    if not value:
        raise ImportFormatError(heading + 1, f"“{heading_label(index)}”下没有内容")
    return value


# --- structured content: blocks after 八, Word tables ---------------------------------

# The language the files are written in: labels are matched, and documents written, in it
# whatever the language of the request.
DOCUMENT_LANGUAGE = "zh-hans"
PROJECT_BLOCK = "项目信息"
# How a yes-or-no field (拟公开) is written.
FLAG_WORDS = {True: "是", False: "否"}
TARGETS_BLOCK = "绩效目标"
# The fields a 项目信息 or 绩效目标 block (or a Word table of label | value pairs) gives.
BLOCK_FIELDS: tuple[str, ...] = (*PROJECT_FIELDS, "amount", *TARGET_FIELDS)
_FIELD_LINE = re.compile(r"^(?P<label>[^:：]{1,30}?)\s*[:：]\s*(?P<value>.*)$")
_MARKDOWN_RULE = re.compile(r":?-{3,}:?")
_DATE = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?")
_CELL_SHOWN = 20  # characters of a cell quoted in a message


def _key(label: str) -> str:
    """A label as compared: width, spaces and a trailing colon do not matter."""
    return "".join(unicodedata.normalize("NFKC", label).split()).rstrip(":")


def _keys_of(label: Any) -> set[str]:
    """A label's key, also without a trailing parenthesis (总体目标（长期）, 金额（元）)."""
    key = _key(str(label))
    short = re.sub(r"\([^()]*\)$", "", key)
    return {key, short} if short else {key}


@dataclass(frozen=True)
class _Vocabulary:
    """The words of a file, derived from `submissions.tables` and the model's labels."""

    blocks: dict[str, str | Table]  # a block heading -> PROJECT_BLOCK, TARGETS_BLOCK or a table
    fields: dict[str, str]  # a field's label -> its name
    columns: dict[str, dict[str, tables.Column]]  # table field -> label -> column
    choices: dict[tuple[str, str], dict[str, str]]  # (table or "", column or field) -> word -> code
    flags: dict[str, bool]


@functools.cache
def _vocabulary() -> _Vocabulary:
    from submissions.models import ProjectText

    with translation.override(DOCUMENT_LANGUAGE):
        blocks: dict[str, str | Table] = {
            PROJECT_BLOCK: PROJECT_BLOCK,
            TARGETS_BLOCK: TARGETS_BLOCK,
        }
        for table in tables.TABLES:
            blocks.update(dict.fromkeys(_keys_of(table.label), table))
        fields = {name: name for name in BLOCK_FIELDS}
        for name in BLOCK_FIELDS:
            fields.update(dict.fromkeys(_keys_of(field_label(name)), name))
        columns = {
            table.field: {
                key: column
                for column in table.columns
                for key in (*_keys_of(column.label), column.key)
            }
            for table in tables.TABLES
        }
        choices = {
            (table.field, column.key): _words_for(column.choices)
            for table in tables.TABLES
            for column in table.columns
            if column.kind == Kind.CHOICE
        }
        for name in ("category", "novelty"):
            choices["", name] = _words_for(ProjectText._meta.get_field(name).choices or ())
        flags = {word: flag for flag, word in FLAG_WORDS.items()} | {"true": True, "false": False}
    return _Vocabulary(blocks, fields, columns, choices, flags)


def _words_for(choices: Iterable[tuple[Any, Any]]) -> dict[str, str]:
    words = {}
    for code, label in choices:
        words.update({_key(str(code)): code, _key(str(label)): code})
    # ≥ and ≤ as typed without the symbols.
    if "≥" in words:
        words.update({">=": "≥", "<=": "≤"})
    return words


@dataclass(frozen=True)
class _Place:
    """Where something was read: a line, or a Word table (and its row)."""

    line: int | None = None
    table: int | None = None
    row: int | None = None

    def error(self, message: str) -> ImportFormatError:
        if self.table is None:
            return ImportFormatError(self.line, message)
        if self.row is None:
            where = _("第 %(n)d 个表格") % {"n": self.table}
        else:
            where = _("第 %(n)d 个表格第 %(row)d 行") % {"n": self.table, "row": self.row}
        return ImportFormatError(
            None, _("%(where)s：%(problem)s") % {"where": where, "problem": message}
        )

    def row_error(self, table: Table, problem: str) -> ImportFormatError:
        """A problem `tables.clean_rows` names by the table's row ("第 3 行（培训费）…")."""
        if self.table is None:
            return ImportFormatError(
                self.line, _("%(table)s%(problem)s") % {"table": table.label, "problem": problem}
            )
        return ImportFormatError(
            None,
            _("第 %(n)d 个表格（%(table)s）%(problem)s")
            % {"n": self.table, "table": table.label, "problem": problem},
        )


class _Found:
    """The structured content of one text, as it is read: fields and tables once each."""

    def __init__(self) -> None:
        self.fields: dict[str, tuple[list[str], _Place]] = {}
        self.tables: dict[str, list[dict[str, Any]]] = {}

    def field(self, name: str, value: str, place: _Place) -> None:
        if name in self.fields:
            raise place.error(_("“%(label)s”重复给出。") % {"label": field_label(name)})
        self.fields[name] = ([value], place)

    def go_on(self, name: str, line: str) -> None:
        self.fields[name][0].append(line)

    def table(self, table: Table, rows: list[tuple[_Place, dict[str, str]]], place: _Place) -> None:
        if table.field in self.tables:
            raise place.error(_("%(table)s重复：每篇文本只能有一个。") % {"table": table.label})
        if len(rows) > tables.MAX_ROWS:
            raise place.error(
                _("%(table)s最多 %(n)d 行。") % {"table": table.label, "n": tables.MAX_ROWS}
            )
        cleaned: list[dict[str, Any]] = []
        for number, (row_place, cells) in enumerate(rows, 1):
            row = {key: _read_cell(table, table.column(key), text) for key, text in cells.items()}
            try:
                # clean_rows names a row by its position and skips rows with nothing in
                # them: empty rows before this one make it name the row as a reader counts.
                cleaned += tables.clean_rows(table, [{}] * (number - 1) + [row])
            except ValueError as error:
                raise row_place.row_error(table, str(error)) from None
        self.tables[table.field] = cleaned

    def finish(self) -> tuple[dict[str, Any], Decimal | None]:
        """The structured content as the API takes it (only what was given, with a value),
        and the amount if one was given."""
        structured: dict[str, Any] = {}
        amount = None
        for name, (lines, place) in self.fields.items():
            value = "\n".join(lines).strip()
            if not value:
                continue
            try:
                if name == "amount":
                    amount = amounts.parse_amount(value, typed=True)
                else:
                    structured[name] = _read_field(name, value)
            except ValueError as error:
                raise place.error(
                    _("%(label)s：%(problem)s") % {"label": field_label(name), "problem": error}
                ) from None
        dates = {
            name: datetime.date.fromisoformat(structured[name])
            for name in ("start_date", "end_date")
            if name in structured
        }
        for name, problems in inconsistencies(dates).items():
            raise self.fields[name][1].error(problems[0])
        structured.update({name: rows for name, rows in self.tables.items() if rows})
        return structured, amount


def _read_field(name: str, value: str) -> Any:
    """A field's value as the API takes it; ValueError saying why it cannot be."""
    vocabulary = _vocabulary()
    given: Any = value
    if name == "for_publication":
        given = vocabulary.flags.get(_key(value).lower())
        if given is None:
            raise ValueError(_("应为“是”或“否”。"))
    elif ("", name) in vocabulary.choices:
        given = vocabulary.choices["", name].get(_key(value), value)
    elif name in ("start_date", "end_date"):
        given = _read_date(value)
    try:
        cleaned = clean_content({name: given}, partial=True)[name]
    except InvalidInput as error:
        raise ValueError(error.errors[name][0]) from None
    return cleaned.isoformat() if isinstance(cleaned, datetime.date) else cleaned


def _read_date(value: str) -> str:
    """2025-09-01, 2025/9/1, 2025.9.1 or 2025年9月1日 as ISO; anything else as given."""
    match = _DATE.fullmatch(unicodedata.normalize("NFKC", value).strip())
    if match is None:
        return value
    try:
        return datetime.date(*(int(part) for part in match.groups())).isoformat()
    except ValueError:
        return value


def _read_cell(table: Table, column: tables.Column, text: str) -> str:
    """A cell as `tables.clean_rows` takes it: a choice by its word, an amount or a number
    as people write them. What cannot be read is left for clean_rows to name."""
    if not text:
        return text
    if column.kind == Kind.CHOICE:
        return _vocabulary().choices[table.field, column.key].get(_key(text), text)
    if column.kind == Kind.AMOUNT:
        try:
            return f"{amounts.parse_amount(text, typed=True):.2f}"
        except ValueError:
            return text
    if column.kind == Kind.DATE:
        return _read_date(text)
    if column.kind in (Kind.YEAR, Kind.NUMBER):
        return unicodedata.normalize("NFKC", text).strip().removesuffix("年").removesuffix("分")
    return text


def _block_of(row: str) -> str | Table | None:
    """The block ``row`` is the heading of, if it is one."""
    return _vocabulary().blocks.get(_key(row)) if row and len(row) <= 40 else None


def _blocks_start(rows: list[str], start: int, stop: int) -> int:
    """Where the first block between ``start`` and ``stop`` begins (``stop`` if none)."""
    return next((i for i in range(start, stop) if _block_of(rows[i]) is not None), stop)


def _read_blocks(source: _Source, start: int, stop: int, found: _Found) -> None:
    """Read the blocks from ``start`` (a block heading, or ``stop``) to ``stop``."""
    at = _blocks_start(source.rows, start, stop)
    while at < stop:
        block = _block_of(source.rows[at])
        end = _blocks_start(source.rows, at + 1, stop)
        if isinstance(block, Table):
            _read_table_block(source, block, at, end, found)
        else:
            _read_field_block(source, at, end, found)
        at = end


def _read_field_block(source: _Source, heading: int, stop: int, found: _Found) -> None:
    fields = _vocabulary().fields
    current = None
    for at in range(heading + 1, stop):
        row = source.rows[at]
        if not row:
            continue
        match = _FIELD_LINE.match(row)
        name = fields.get(_key(match["label"])) if match else None
        if match and name is not None:
            found.field(name, match["value"], _Place(line=at + 1))
            current = name
        elif current in TARGET_FIELDS:
            found.go_on(current, row)  # a target is prose, and may run over lines
        else:
            raise ImportFormatError(at + 1, _field_line_expected())


def _field_line_expected() -> str:
    with translation.override(DOCUMENT_LANGUAGE):
        labels = "、".join(field_label(name) for name in BLOCK_FIELDS)
    return _("应为“标签：值”，如“项目编码：530427-2025-ZZB-001”；标签可以是：%(labels)s。") % {
        "labels": labels
    }


def _separator(line: str) -> str | None:
    if "\t" in line:
        return "\t"
    return "|" if "|" in line or "｜" in line else None


def _cells(line: str, separator: str | None) -> list[str]:
    """A table row's cells; with bars, ``| a | b |`` loses its outer ones."""
    line = _DEBRIS.sub("", line.translate(_INVISIBLE))
    if separator is None:
        return [line.strip()]
    if separator == "\t":
        return [cell.strip() for cell in line.split("\t")]
    line = line.strip()
    if len(line) > 1 and line[0] in "|｜" and line[-1] in "|｜":
        line = line[1:-1]
    return [cell.strip() for cell in re.split("[|｜]", line)]


def _header_keys(table: Table, header: Sequence[str]) -> list[str | None]:
    """The column each header cell names (None for an empty cell); ValueError saying what
    is wrong with the header."""
    columns = _vocabulary().columns[table.field]
    keys: list[str | None] = []
    for cell in header:
        if not cell:
            keys.append(None)
            continue
        column = columns.get(_key(cell))
        if column is None:
            raise ValueError(
                _("“%(cell)s”不是%(table)s的列；可用列：%(columns)s。")
                % {
                    "cell": cell[:_CELL_SHOWN],
                    "table": table.label,
                    "columns": "、".join(str(column.label) for column in table.columns),
                }
            )
        if column.key in keys:
            raise ValueError(
                _("%(table)s的表头重复了“%(column)s”。")
                % {"table": table.label, "column": column.label}
            )
        keys.append(column.key)
    missing = [column for column in table.columns if column.required and column.key not in keys]
    if missing:
        raise ValueError(
            _("%(table)s的表头缺少“%(column)s”。")
            % {"table": table.label, "column": missing[0].label}
        )
    return keys


def _row_of(
    table: Table, keys: list[str | None], cells: list[str], place: _Place
) -> dict[str, str]:
    if len(cells) > len(keys) and any(cells[len(keys) :]):
        raise place.error(
            _("%(table)s这一行有 %(n)d 列，表头只有 %(k)d 列。")
            % {"table": table.label, "n": len(cells), "k": len(keys)}
        )
    return {key: cell for key, cell in zip(keys, cells, strict=False) if key}


def _read_table_block(
    source: _Source, table: Table, heading: int, stop: int, found: _Found
) -> None:
    """A table written as lines: a header row of column labels, then a row per line."""
    at = [i for i in range(heading + 1, stop) if source.rows[i]]
    if not at:
        return  # only the heading: in a .docx, the Word table under it holds the rows
    separator = _separator(source.lines[at[0]])
    try:
        keys = _header_keys(table, _cells(source.lines[at[0]], separator))
    except ValueError as error:
        raise ImportFormatError(at[0] + 1, str(error)) from None
    rows = []
    for line in at[1:]:
        cells = _cells(source.lines[line], separator)
        if separator == "|" and all(_MARKDOWN_RULE.fullmatch(cell) for cell in cells if cell):
            continue  # | --- | --- |, a Markdown table's rule under its header
        place = _Place(line=line + 1)
        rows.append((place, _row_of(table, keys, cells, place)))
    found.table(table, rows, _Place(line=heading + 1))


def _read_word_table(word: WordTable, found: _Found) -> None:
    """A Word table: one of `submissions.tables` by its header row (below an optional
    title row such as 资金明细), or label | value pairs of project data and targets."""
    rows = [list(row) for row in word.rows]
    first, named = 0, None
    if rows:
        titles = {cell for cell in rows[0] if cell}
        if len(titles) == 1 and _block_of(next(iter(titles))) is not None:
            first, named = 1, _block_of(next(iter(titles)))
    if first >= len(rows):
        return  # an empty table, or only its title
    table = _table_of_header(rows[first], named)
    if table is None:
        _read_pairs(word, rows, first, found)
        return
    try:
        keys = _header_keys(table, rows[first])
    except ValueError as error:
        raise _Place(table=word.number).error(str(error)) from None
    data = []
    # Rows are counted under the header, as clean_rows and the pages count them.
    for number, cells in enumerate(rows[first + 1 :], 1):
        place = _Place(table=word.number, row=number)
        data.append((place, _row_of(table, keys, cells, place)))
    found.table(table, data, _Place(table=word.number))


def _table_of_header(header: Sequence[str], named: str | Table | None) -> Table | None:
    """The table whose columns ``header`` names: the one its title row named, or the one
    two or more of its cells name. None: not a table's header."""
    if isinstance(named, Table):
        return named
    columns = _vocabulary().columns
    keys = [_key(cell) for cell in header if cell]
    best = max(tables.TABLES, key=lambda table: sum(key in columns[table.field] for key in keys))
    return best if sum(key in columns[best.field] for key in keys) >= 2 else None


def _read_pairs(word: WordTable, rows: list[list[str]], first: int, found: _Found) -> None:
    """Rows of label | value pairs (label | value | label | value … in wide forms)."""
    fields = _vocabulary().fields
    known = False
    for offset, cells in enumerate(rows[first:]):
        place = _Place(table=word.number, row=first + 1 + offset)
        for at in range(0, len(cells), 2):
            label, value = cells[at], cells[at + 1] if at + 1 < len(cells) else ""
            if not label and not value:
                continue
            name = fields.get(_key(label))
            if name is None and not value and _block_of(label) is not None:
                continue  # a heading row inside the table: 绩效目标
            if name is None:
                if not known:
                    raise _Place(table=word.number).error(_unreadable_table())
                raise place.error(
                    _("“%(label)s”不是项目信息或绩效目标的标签。") % {"label": label[:_CELL_SHOWN]}
                )
            known = True
            found.field(name, value, place)


def _unreadable_table() -> str:
    with translation.override(DOCUMENT_LANGUAGE):
        example = tables.BREAKDOWN
        columns = "、".join(str(column.label) for column in example.columns)
        label = str(example.label)
    return _(
        "读不出这个表格：表头应为一个表的列名（如%(table)s：%(columns)s），"
        "或每行为“标签 | 值”（如“项目编码 | 530427-2025-ZZB-001”）。"
    ) % {"table": label, "columns": columns}


# --- amount --------------------------------------------------------------------------


def _find_amount(rows: list[str], heading: int, end: int) -> Decimal:
    """The largest amount in section 六: the prose states the total and maybe its parts."""
    found = [
        _to_yuan(match, row + 1)
        for row in range(heading, end)
        for match in _AMOUNT.finditer(_ascii_digits(_prose_of(rows, row, heading)))
    ]
    if not found:
        raise ImportFormatError(
            heading + 1,
            f"“{heading_label(FUNDING_INDEX)}”中没有找到金额（如 1,751,800.00元）",
        )
    return max(found)


def _to_yuan(match: re.Match[str], line: int) -> Decimal:
    integer, fraction, unit = match.groups()
    value = amounts.in_yuan(integer, fraction, unit)
    if value is None:
        raise ImportFormatError(
            line, f"金额“{match.group(0)}”超过 {MAX_INTEGER_DIGITS} 位整数，请检查"
        )
    # Prose may give 万元 with more places than cents ("1.234567万元"): rounded to the cent.
    return value.quantize(amounts.CENT, rounding=ROUND_HALF_UP)


def _prose_of(rows: list[str], row: int, heading: int) -> str:
    """The prose on ``row``: on the heading's line, what follows the heading."""
    if row != heading:
        return rows[row]
    found = _heading(rows[row])
    return found[1] if found else ""


# Full-width digits, as a Chinese input method types them, are digits; a full-width comma
# or point is their grouping or decimal point only between two of them (elsewhere "，" is
# the sentence's comma: "分别为100，200万元" is two amounts).
_FULL_WIDTH_DIGITS = str.maketrans({chr(0xFF10 + n): str(n) for n in range(10)})
_FULL_WIDTH_MARK = re.compile(r"(?<=[０-９])[，．](?=[０-９])")


def _ascii_digits(row: str) -> str:
    marks = _FULL_WIDTH_MARK.sub(lambda match: "," if match.group() == "，" else ".", row)
    return marks.translate(_FULL_WIDTH_DIGITS)
