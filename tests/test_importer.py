"""Importing and exporting project texts: the sample's format, its variants, and every
way a file can be wrong. Unit tests: no database (the limits come from the settings)."""

import contextlib
import os
import random
import zipfile
from dataclasses import replace
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

from submissions.docx_export import render_docx
from submissions.importer import (
    NUMERALS,
    SECTIONS,
    ImportFormatError,
    ParsedText,
    parse_lines,
    parse_texts,
)
from workflow.exceptions import TooLarge

DEPARTMENT = "中共新平彝族傣族自治县委员会组织部"
FIELDS = [field for field, _ in SECTIONS]
# Line numbers (1-based) in the sample's first text.
FUNDING_HEADING = 18
FUNDING_LINE = 19


def _sample_path() -> Path:
    override = os.environ.get("SAMPLE_TEXTS")
    if override:
        return Path(override)
    return (
        Path(__file__).resolve().parents[2] / "shared/data/xinping-2025-org-dept-project-texts.txt"
    )


@pytest.fixture(scope="module")
def sample_bytes() -> bytes:
    return _sample_path().read_bytes()


@pytest.fixture(scope="module")
def sample_lines(sample_bytes: bytes) -> list[str]:
    return sample_bytes.decode("utf-8").split("\n")


@pytest.fixture
def first_text(sample_lines: list[str]) -> list[str]:
    """Only the sample's first text: lines 1 to 23."""
    return sample_lines[:23]


def parse_txt(text: str, encoding: str = "utf-8") -> list[ParsedText]:
    return parse_texts(text.encode(encoding), "texts.txt")


def error_of(lines: list[str]) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as caught:
        parse_lines(lines)
    return caught.value


def docx_bytes(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def with_funding(lines: list[str], funding: str) -> list[str]:
    changed = list(lines)
    changed[FUNDING_LINE - 1] = funding
    return changed


def assert_is_sample(texts: list[ParsedText]) -> None:
    assert len(texts) == 2
    assert [t.amount for t in texts] == [Decimal("1751800.00"), Decimal("1227700.00")]
    for text in texts:
        assert text.fiscal_year == 2025
        assert text.department_name == DEPARTMENT
        for field in FIELDS:
            value = getattr(text, field)
            assert value, field
            assert "[bookmark" not in value, field
    second = texts[1]
    assert "（六）党建引领" in second.content
    assert second.outcomes.startswith("（一）通过开展基层党建工作")


# --- the sample ----------------------------------------------------------------------


def test_sample_txt_gives_both_texts_with_their_amounts_and_sections(sample_bytes):
    assert_is_sample(parse_texts(sample_bytes, "sample.txt"))


def test_sample_docx_built_from_its_lines_gives_the_same_texts(sample_bytes, sample_lines):
    from_docx = parse_texts(docx_bytes(sample_lines), "sample.docx")
    assert_is_sample(from_docx)
    assert from_docx == parse_texts(sample_bytes, "sample.txt")


def test_title_is_the_name_without_its_trailing_full_stop(sample_bytes):
    texts = parse_texts(sample_bytes, "sample.txt")
    assert [t.title for t in texts] == ["新平县村级组织换届工作经费", "新平县委组织部党建工作经费"]


def test_sections_keep_their_lines_and_sub_numbering(sample_bytes):
    second = parse_texts(sample_bytes, "sample.txt")[1]
    assert second.content.startswith("（一）基层党建工作\n1.加强领导。")
    assert second.plan.split("\n")[0] == "（一）基层党建工作"
    assert second.implementer == "中共新平彝族傣族自治县委员会组织部。"


def test_last_section_ends_before_the_next_department_line(sample_bytes):
    first = parse_texts(sample_bytes, "sample.txt")[0]
    assert "\n" not in first.outcomes
    assert first.outcomes.endswith("确保高质量发展提供坚强保证。")


def test_first_line_is_the_department_line_of_each_text(sample_bytes):
    texts = parse_texts(sample_bytes, "sample.txt")
    assert [t.first_line for t in texts] == [1, 27]


def test_extension_is_case_insensitive(sample_bytes):
    assert len(parse_texts(sample_bytes, "SAMPLE.TXT")) == 2


# --- tolerated variants --------------------------------------------------------------


def test_bookmark_debris_is_removed_wherever_it_appears(first_text):
    lines = list(first_text)
    lines[0] = "[bookmark: _GoBack]" + lines[0]
    lines[4] = lines[4] + "[bookmark: _Toc12345]"
    lines[9] = "前言[bookmark: x]后语"
    text = parse_lines(lines)[0]
    assert text.department_name == DEPARTMENT
    assert text.overview == "前言后语"
    assert text.basis.startswith("依据《中国共产党章程》")


def test_a_line_holding_only_debris_becomes_blank_and_keeps_numbering(first_text):
    lines = [*first_text[:4], "[bookmark: _GoBack]", *first_text[4:]]
    lines[9] = "三、项目实施单位"  # a heading moved to line 10 shows numbering is intact
    lines[10] = ""
    assert error_of(lines).line == 10


def test_gb18030_encoded_file_parses(sample_lines):
    assert_is_sample(parse_txt("\n".join(sample_lines), encoding="gb18030"))


def test_utf8_bom_is_stripped(sample_bytes):
    assert_is_sample(parse_texts(b"\xef\xbb\xbf" + sample_bytes, "sample.txt"))


def test_crlf_line_ends_parse(sample_lines):
    assert_is_sample(parse_txt("\r\n".join(sample_lines)))


def test_headings_may_carry_a_colon_and_surrounding_spaces(first_text):
    lines = list(first_text)
    lines[2] = "一、项目名称："
    lines[4] = "\u3000\u3000二、立项依据:  "
    lines[6] = "  三、项目实施单位\t"
    text = parse_lines(lines)[0]
    assert text.title == "新平县村级组织换届工作经费"
    assert text.basis.startswith("依据")
    assert text.implementer == "中共新平彝族傣族自治县委员会组织部。"


def test_indented_content_lines_lose_their_indent(first_text):
    lines = list(first_text)
    lines[3] = "\u3000\u3000新平县村级组织换届工作经费。  "
    assert parse_lines(lines)[0].title == "新平县村级组织换届工作经费"


def test_zero_width_spaces_are_removed(first_text):
    lines = list(first_text)
    lines[2] = "\u200b一、项目名称\u200b"
    lines[3] = "新平县\u200b村级组织换届工作经费。"
    assert parse_lines(lines)[0].title == "新平县村级组织换届工作经费"


def test_blank_lines_inside_a_section_are_kept_but_not_at_its_edges(first_text):
    # Line 11 is the heading 五, lines 12 to 17 its content.
    lines = [*first_text[:11], "", "", first_text[11], "", "第二段", *first_text[12:17], "", ""]
    lines += first_text[17:]
    content = parse_lines(lines)[0].content
    assert content.startswith("村（社区）“两委”换届选举")
    assert "\n\n第二段\n1.切实加强党的领导" in content
    assert content.endswith("确保换届圆满完成。")


def test_docx_paragraph_with_line_breaks_gives_one_line_per_break(first_text):
    document = docx.Document()
    for line in first_text[:4]:
        document.add_paragraph(line)
    document.add_paragraph().add_run(first_text[4] + "\n" + first_text[5])
    for line in first_text[6:]:
        document.add_paragraph(line)
    buffer = BytesIO()
    document.save(buffer)
    text = parse_texts(buffer.getvalue(), "one.docx")[0]
    assert text.basis.startswith("依据《中国共产党章程》")


def test_docx_paragraphs_read_as_python_docx_reads_them(first_text):
    """Tabs, breaks, hyphens and hyperlinks give the text python-docx's Paragraph.text
    gives; page breaks and tracked insertions give none. The importer reads the XML
    itself, since Paragraph.text costs ~30 µs a run."""
    rich = parse_xml(
        f"<w:p {nsdecls('w', 'r')}>"
        "<w:r><w:t>甲</w:t><w:tab/><w:t>乙</w:t></w:r>"
        "<w:r><w:br/><w:t>丙</w:t><w:noBreakHyphen/><w:t>丁</w:t></w:r>"
        '<w:hyperlink r:id="rId99"><w:r><w:t>链接</w:t></w:r></w:hyperlink>'
        '<w:r><w:br w:type="page"/><w:lastRenderedPageBreak/><w:t/>'
        '<w:ptab w:relativeTo="margin" w:alignment="right" w:leader="none"/><w:t>戊</w:t></w:r>'
        '<w:ins w:id="1" w:author="x" w:date="2025-01-01T00:00:00Z">'
        "<w:r><w:t>插入</w:t></w:r></w:ins>"
        "<w:r><w:cr/><w:t>己</w:t></w:r>"
        "</w:p>"
    )
    document = docx.Document()
    for line in first_text:
        document.add_paragraph(line)
    document.paragraphs[11]._p.addprevious(rich)  # the first line of 五
    buffer = BytesIO()
    document.save(buffer)
    data = buffer.getvalue()

    expected = docx.Document(BytesIO(data)).paragraphs[11].text
    assert expected == "甲\t乙\n丙-丁链接\t戊\n己"
    content = parse_texts(data, "rich.docx")[0].content
    assert content.startswith(expected + "\n" + first_text[11] + "\n")


# --- amounts -------------------------------------------------------------------------


def test_amount_in_wan_yuan_is_multiplied_by_ten_thousand(first_text):
    lines = with_funding(first_text, "安排经费175.18万元。")
    assert parse_lines(lines)[0].amount == Decimal("1751800.00")


def test_amount_without_thousands_separators(first_text):
    lines = with_funding(first_text, "安排经费1751800元。")
    assert parse_lines(lines)[0].amount == Decimal("1751800.00")


def test_largest_amount_is_taken_as_the_total(first_text):
    funding = "共安排500,000.00元用于培训，合计安排1,227,700.00元，其中保险费20万元。"
    assert parse_lines(with_funding(first_text, funding))[0].amount == Decimal("1227700.00")


def test_amount_is_rounded_to_cents(first_text):
    lines = with_funding(first_text, "安排经费12.345元。")
    assert parse_lines(lines)[0].amount == Decimal("12.35")


def test_twelve_integer_digits_are_accepted(first_text):
    lines = with_funding(first_text, "安排经费999,999,999,999.99元。")
    assert parse_lines(lines)[0].amount == Decimal("999999999999.99")


def test_amount_with_more_than_twelve_integer_digits_is_refused(first_text):
    error = error_of(with_funding(first_text, "安排经费1,234,567,890,123.00元。"))
    assert error.line == FUNDING_LINE
    assert str(error).startswith(f"第{FUNDING_LINE}行：")


def test_amount_in_wan_yuan_that_exceeds_twelve_digits_is_refused(first_text):
    assert error_of(with_funding(first_text, "安排经费100000000万元。")).line == FUNDING_LINE


def test_missing_amount_names_the_funding_heading(first_text):
    error = error_of(with_funding(first_text, "经费由县财政统筹安排。"))
    assert error.line == FUNDING_HEADING
    assert str(error) == "第18行：“六、资金安排情况”中没有找到金额（如 1,751,800.00元）"


def test_years_and_counts_in_the_funding_prose_are_not_amounts(first_text):
    error = error_of(with_funding(first_text, "2025年安排10个项目，共3,000份材料。"))
    assert error.line == FUNDING_HEADING


@pytest.mark.parametrize(
    "digits", ["١,٧٥١,٨٠٠.٠٠", "१७५१८००.००"], ids=["arabic-indic", "devanagari"]
)
def test_an_amount_written_in_other_digits_is_not_an_amount(first_text, digits):
    # Full-width digits are digits (a Chinese input method types them): see
    # test_import_variants.py.
    error = error_of(with_funding(first_text, f"安排经费{digits}元。"))
    assert error.line == FUNDING_HEADING
    assert "没有找到金额" in str(error)


def test_an_amount_is_not_read_from_the_tail_of_a_number_in_other_digits(first_text):
    funding = "安排经费९९९,९९९,९९९元，其中1,751,800.00元。"
    assert parse_lines(with_funding(first_text, funding))[0].amount == Decimal("1751800.00")


def test_an_amount_is_not_read_from_the_tail_of_an_underscored_number(first_text):
    error = error_of(with_funding(first_text, "安排经费1_000元。"))
    assert error.line == FUNDING_HEADING


def test_a_year_written_in_other_digits_is_not_a_year(first_text):
    lines = [first_text[0], "٢٠٢٥年部门预算重点领域财政项目文本", *first_text[2:]]
    error = error_of(lines)
    assert error.line == 2
    assert "应为标题行" in str(error)


# --- errors --------------------------------------------------------------------------


def test_error_message_names_the_line():
    assert str(ImportFormatError(12, "缺少“三、项目实施单位”")) == "第12行：缺少“三、项目实施单位”"


def test_error_without_a_line_is_just_the_message():
    assert (
        str(ImportFormatError(None, "只能导入 .txt 或 .docx 文件")) == "只能导入 .txt 或 .docx 文件"
    )


def test_empty_file_is_refused():
    with pytest.raises(ImportFormatError) as caught:
        parse_texts(b"", "empty.txt")
    assert caught.value.line is None
    assert str(caught.value) == "文件中没有找到项目文本"


def test_file_of_blank_lines_and_debris_is_refused():
    with pytest.raises(ImportFormatError, match="文件中没有找到项目文本"):
        parse_texts("\n \u3000\n[bookmark: _GoBack]\r\n".encode(), "blank.txt")


def test_prose_without_headings_is_refused():
    with pytest.raises(ImportFormatError, match="文件中没有找到项目文本"):
        parse_txt("这是一份会议纪要。\n与预算无关。\n")


def test_department_and_title_without_sections_name_the_missing_first_heading(first_text):
    error = error_of(first_text[:2])
    assert error.line == 3
    assert "缺少“一、项目名称”" in str(error)


def test_missing_title_line_is_reported_where_it_belongs(first_text):
    error = error_of([first_text[0], *first_text[2:]])
    assert str(error) == "第2行：应为标题行，如“2025年部门预算重点领域财政项目文本”"


def test_title_without_a_four_digit_year_is_refused(first_text):
    error = error_of([first_text[0], "部门预算重点领域财政项目文本（一）", *first_text[2:]])
    assert error.line == 2
    assert "应为标题行" in str(error)


def test_missing_department_line_is_refused(first_text):
    error = error_of(first_text[1:])
    assert error.line == 1
    assert "缺少部门名称行" in str(error)


def test_text_before_the_first_department_line_is_refused(first_text):
    error = error_of(["附件1", "", *first_text])
    assert error.line == 1
    assert "部门名称行之前有多余的内容" in str(error)


def test_missing_heading_names_the_expected_heading_and_where_it_was_expected(first_text):
    lines = first_text[:6] + first_text[7:]  # without "三、项目实施单位"
    error = error_of(lines)
    assert error.line == 8
    assert str(error).startswith("第8行：缺少“三、项目实施单位”")
    assert "四、项目基本概况" in str(error)


def test_headings_out_of_order_are_refused(first_text):
    lines = list(first_text)
    lines[4], lines[6] = lines[6], lines[4]  # 三 where 二 belongs and vice versa
    error = error_of(lines)
    assert error.line == 5
    assert "缺少“二、立项依据”" in str(error)


def test_repeated_heading_is_refused(first_text):
    lines = [*first_text[:6], "二、立项依据", "重复的内容", *first_text[6:]]
    error = error_of(lines)
    assert error.line == 7
    assert "重复或顺序不对" in str(error)
    assert "三、项目实施单位" in str(error)


def test_file_ending_before_the_last_section_names_the_missing_heading(first_text):
    error = error_of(first_text[:21])  # stops after 七's content
    assert error.line == 22
    assert "缺少“八、项目实施成效”" in str(error)


def test_empty_section_names_its_heading_line(first_text):
    lines = [*first_text[:7], "", *first_text[8:]]  # 三's content blanked
    assert str(error_of(lines)) == "第7行：“三、项目实施单位”下没有内容"


def test_empty_last_section_names_its_heading_line(first_text):
    assert error_of(first_text[:22]).line == 22


def test_title_of_only_a_full_stop_counts_as_empty(first_text):
    lines = list(first_text)
    lines[3] = "。"
    assert error_of(lines).line == 3


def test_second_text_without_title_line_names_that_line(sample_lines):
    lines = sample_lines[:27] + sample_lines[28:]
    error = error_of(lines)
    assert error.line == 28
    assert "应为标题行" in str(error)


def test_second_text_without_department_line_names_its_title(sample_lines):
    lines = sample_lines[:26] + sample_lines[27:]
    error = error_of(lines)
    assert error.line == 27
    assert "缺少部门名称行" in str(error)


def test_file_of_only_headings_is_refused():
    headings = [
        f"{numeral}、{label}" for numeral, (_, label) in zip(NUMERALS, SECTIONS, strict=True)
    ]
    error = error_of(headings)
    assert error.line == 1
    assert "缺少部门名称行和标题行" in str(error)


def test_sub_numbering_is_not_taken_for_a_heading(first_text):
    lines = [*first_text[:12], "一、加强领导", "（六）统筹", *first_text[12:]]
    assert "一、加强领导\n（六）统筹" in parse_lines(lines)[0].content


@pytest.mark.parametrize("heading", ["九、其他说明", "九、项目实施成效", "十、附件", "十一、备注"])
def test_a_section_numbered_past_the_eighth_is_refused_naming_its_line(first_text, heading):
    error = error_of([*first_text, heading, "补充内容。"])
    assert error.line == 24
    assert f"“{heading}”" in str(error)
    assert "只有八个部分" in str(error)


def test_a_ninth_section_between_two_texts_is_refused_naming_its_line(sample_lines):
    lines = [*sample_lines[:23], "九、其他说明", "补充内容。", *sample_lines[23:]]
    assert error_of(lines).line == 24


def test_sub_points_after_the_eighth_heading_stay_part_of_it(first_text):
    lines = [*first_text, "（一）补充", "1.细节", "（1）再细", "一、加强领导"]
    outcomes = parse_lines(lines)[0].outcomes
    assert outcomes.endswith("\n（一）补充\n1.细节\n（1）再细\n一、加强领导")


# --- files that are not texts at all -------------------------------------------------


def test_pdf_name_is_refused(sample_bytes):
    with pytest.raises(ImportFormatError) as caught:
        parse_texts(sample_bytes, "sample.pdf")
    assert caught.value.line is None
    assert str(caught.value) == "只能导入 .txt 或 .docx 文件"


def test_non_utf8_non_gb18030_bytes_are_refused():
    with pytest.raises(ImportFormatError) as caught:
        parse_texts(b"\xff\xfe\xfd\x80abc", "garbage.txt")
    assert str(caught.value) == "文件不是 UTF-8 或 GB18030 编码的文本"


def test_png_renamed_to_txt_is_refused():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
    with pytest.raises(ImportFormatError):
        parse_texts(png, "picture.txt")


@pytest.mark.parametrize("filename", ["random.txt", "random.docx"])
def test_random_bytes_raise_only_import_format_error(filename):
    generator = random.Random(20250101)
    for _ in range(50):
        data = bytes(generator.randrange(256) for _ in range(generator.randrange(1, 600)))
        with pytest.raises(ImportFormatError):
            parse_texts(data, filename)


def test_text_renamed_to_docx_is_refused(sample_bytes):
    with pytest.raises(ImportFormatError) as caught:
        parse_texts(sample_bytes, "sample.docx")
    assert str(caught.value) == "不是有效的 .docx 文件"


def test_zip_that_is_not_a_word_document_is_refused():
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ImportFormatError, match=r"不是有效的 \.docx 文件"):
        parse_texts(buffer.getvalue(), "archive.docx")


def test_docx_without_paragraphs_is_refused():
    with pytest.raises(ImportFormatError, match="文件中没有找到项目文本"):
        parse_texts(docx_bytes([]), "empty.docx")


def test_any_damaged_sample_gives_a_text_or_an_import_format_error(sample_lines):
    """Dropping or doubling any line must never surface another exception type."""
    for index in range(len(sample_lines)):
        variants = [
            sample_lines[:index] + sample_lines[index + 1 :],
            sample_lines[:index] + sample_lines[index : index + 1] * 2 + sample_lines[index + 1 :],
        ]
        for lines in variants:
            with contextlib.suppress(ImportFormatError):
                parse_lines(lines)


def test_any_damaged_docx_gives_texts_or_a_refusal(sample_lines):
    """Bytes of the sample's .docx changed at random, compressed and stored: never
    another exception type (zipfile's NotImplementedError was one)."""
    deflated = docx_bytes(sample_lines)
    source = zipfile.ZipFile(BytesIO(deflated))
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info))
    generator = random.Random(20250102)
    for original in (deflated, buffer.getvalue()):
        for _ in range(300):
            data = bytearray(original)
            for _ in range(generator.randrange(1, 6)):
                data[generator.randrange(len(data))] = generator.randrange(256)
            with contextlib.suppress(ImportFormatError, TooLarge):
                parse_texts(bytes(data), "damaged.docx")


# --- export --------------------------------------------------------------------------


def test_export_round_trips_both_sample_texts(sample_bytes):
    for text in parse_texts(sample_bytes, "sample.txt"):
        (again,) = parse_texts(render_docx(text.department_name, text.values()), "export.docx")
        assert again == replace(text, first_line=1)


def test_export_lays_out_department_title_and_bold_headings(sample_bytes):
    text = parse_texts(sample_bytes, "sample.txt")[0]
    paragraphs = docx.Document(BytesIO(render_docx(text.department_name, text.values()))).paragraphs
    assert paragraphs[0].text == DEPARTMENT
    assert paragraphs[1].text == "2025年部门预算重点领域财政项目文本"
    assert paragraphs[2].text == "一、项目名称"
    assert all(run.bold for run in paragraphs[2].runs)
    assert paragraphs[3].text == "新平县村级组织换届工作经费。"


def test_export_sets_an_east_asian_font_on_the_normal_style(sample_bytes):
    text = parse_texts(sample_bytes, "sample.txt")[0]
    document = docx.Document(BytesIO(render_docx(text.department_name, text.values())))
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "宋体"


def test_export_drops_characters_word_cannot_store(sample_bytes):
    text = parse_texts(sample_bytes, "sample.txt")[0]
    damaged = replace(text, basis="依据\x00文件\x07。")
    (again,) = parse_texts(render_docx(damaged.department_name, damaged.values()), "export.docx")
    assert again.basis == "依据文件。"
