"""Read budget project texts (部门预算重点领域财政项目文本) from .txt and .docx files.

A file holds one or more texts. Each text is a department line, a title line carrying the
fiscal year, then eight numbered sections whose headings stand alone on their lines (see
``SECTIONS``). Everything a user can upload must end in parsed texts, in an
``ImportFormatError`` whose message names the offending line (the API answers 400), or in
``TooLarge`` naming the limit it exceeds (413), never in a 500; and reading any file the
upload limit admits must take bounded time and memory (``ImportLimits``).
"""

from __future__ import annotations

import dataclasses
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO
from typing import Any, NoReturn

import docx
from django.conf import settings
from django.utils.translation import gettext as _
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from lxml import etree

from submissions import amounts
from submissions.errors import TooLarge
from submissions.sections import FUNDING_INDEX, NUMERALS, SECTION_FIELDS, SECTIONS

MAX_INTEGER_DIGITS = amounts.INTEGER_DIGITS  # the database column's digits before the point

NO_TEXT = "文件中没有找到项目文本"
NOT_DOCX = "不是有效的 .docx 文件"
TITLE_EXAMPLE = "应为标题行，如“2025年部门预算重点领域财政项目文本”"

# Word-to-text converters leave bookmark markers such as "[bookmark: _GoBack]" behind.
# A marker holds no "[": stopping there keeps a line of many unclosed "[bookmark:" linear.
_DEBRIS = re.compile(r"\[bookmark:[^\][]*\]", re.IGNORECASE)
# Invisible characters that editors insert and that would defeat heading matching.
_INVISIBLE = str.maketrans("", "", "\ufeff\u200b\u200c\u200d\u2060")
_HEADING = re.compile(
    r"^([一二三四五六七八])\s*、\s*(" + "|".join(label for _f, label in SECTIONS) + r")\s*[:：]?$"
)
# A top-level heading numbered past 八 (九 to 九十九): the text has only eight sections.
# Sub-points inside sections are written （一）, 1. or （1）, which this does not match.
_EXTRA_HEADING = re.compile(
    r"^(?:九|十[一二三四五六七八九]?|[二三四五六七八九]十[一二三四五六七八九]?)\s*、"
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
    if name.endswith(".txt"):
        lines = _txt_lines(data)
    elif name.endswith(".docx"):
        lines = _docx_lines(data, limits)
    else:
        raise ImportFormatError(None, "只能导入 .txt 或 .docx 文件")
    return parse_lines(lines, limits)


def parse_lines(lines: list[str], limits: ImportLimits | None = None) -> list[ParsedText]:
    """Parse texts from lines; line numbers in errors are positions in ``lines`` + 1."""
    limits = limits or ImportLimits.from_settings()
    if len(lines) > limits.lines:
        raise TooLarge(_("文件行数过多：每个文件最多 %(n)d 行。") % {"n": limits.lines})
    rows = [_clean(line) for line in lines]
    start = _next_nonblank(rows, 0)
    if start is None:
        raise ImportFormatError(None, NO_TEXT)
    if _next_heading(rows, start) is None:
        raise _no_heading_error(rows, start)
    texts: list[ParsedText] = []
    while start is not None:
        if len(texts) == limits.texts:
            # Stop here: parsing the rest would only cost time, and the drafts are created
            # after the whole file has parsed, so none is.
            raise TooLarge(
                _("文件中的项目文本过多：每个文件最多 %(n)d 份，第%(line)d行起是第 %(k)d 份。")
                % {"n": limits.texts, "line": start + 1, "k": limits.texts + 1}
            )
        text, start = _parse_one(rows, start)
        texts.append(text)
    return texts


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


def _docx_lines(data: bytes, limits: ImportLimits) -> list[str]:
    package = _bounded_package(data, limits)
    lines: list[str] = []
    try:
        document = docx.Document(BytesIO(package))
        body = document.element.find(_W_BODY)
        for paragraph in [] if body is None else body.iterchildren(_W_P):
            # A soft line break inside a paragraph reads as "\n"; it is a line of its own.
            lines.extend(_paragraph_text(paragraph).split("\n"))
            if len(lines) > limits.lines:
                break  # parse_lines refuses it; reading on would only cost time
    except _DAMAGED:
        raise ImportFormatError(None, NOT_DOCX) from None
    return lines


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


def _heading_index(row: str) -> int | None:
    """Which section heading ``row`` is, if it is one; numeral and label must agree."""
    match = _HEADING.match(row)
    if match is None:
        return None
    index = NUMERALS.index(match.group(1))
    return index if SECTIONS[index][1] == match.group(2) else None


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


def _parse_one(rows: list[str], start: int) -> tuple[ParsedText, int | None]:
    """Parse the text whose first non-blank line is ``start``; also return where the next
    text starts (None at the end of the file)."""
    first_heading = _next_heading(rows, start)
    if first_heading is None:  # callers only start a text above a heading
        raise ImportFormatError(None, NO_TEXT)
    header = _nonblank_between(rows, start, first_heading)
    department, year = _read_header(rows, header, first_heading)
    _expect_heading(rows, first_heading, 0)

    values: dict[str, str] = {}
    amount = Decimal(0)
    heading = first_heading
    next_start = None
    for index, (field, _label) in enumerate(SECTIONS):
        is_last = index == len(SECTIONS) - 1
        if is_last:
            end, next_start = _last_section_end(rows, heading)
        else:
            end = _section_end(rows, heading)
        # Checked in this order so the error names the earliest problem in the file.
        values[field] = _section_value(rows, heading, end, index)
        if index == FUNDING_INDEX:
            amount = _find_amount(rows, heading, end)
        if not is_last:
            _expect_heading(rows, end, index + 1)
        heading = end

    text = ParsedText(
        department_name=department,
        fiscal_year=year,
        amount=amount,
        first_line=start + 1,
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
    """The section's lines between its heading and ``end``, without blank edges."""
    first, stop = heading + 1, end
    while first < stop and not rows[first]:
        first += 1
    while stop > first and not rows[stop - 1]:
        stop -= 1
    value = "\n".join(rows[first:stop])
    if index == 0:
        # The title is a name; the sample ends it with a full stop like a sentence.
        value = value.removesuffix("。")
    if not value:
        raise ImportFormatError(heading + 1, f"“{heading_label(index)}”下没有内容")
    return value


# --- amount --------------------------------------------------------------------------


def _find_amount(rows: list[str], heading: int, end: int) -> Decimal:
    """The largest amount in section 六: the prose states the total and maybe its parts."""
    found = [
        _to_yuan(match, row + 1)
        for row in range(heading + 1, end)
        for match in _AMOUNT.finditer(rows[row])
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
