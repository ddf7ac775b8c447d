"""Every form a county sends imports to the same content: headings inline or alone, either
width of punctuation and spaces, any line end, BOM, GB18030, amounts however written; the
structured parts (project data, targets, tables) from .txt blocks and from Word tables;
refusals that name the line or the Word table and row, with nothing created; and the
.docx export reads back to every field and row. Files are built from the sample and from
`submissions.demo_content.ENRICHMENT` (tests/samples.py)."""

import io
import re
from collections.abc import Callable
from decimal import Decimal

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from submissions import tables
from submissions.content import clean_content
from submissions.demo_content import ELECTION_TITLE, ENRICHMENT, PARTY_BUILDING_TITLE
from submissions.docx_export import render_docx
from submissions.importer import ImportFormatError, ParsedText, parse_texts
from submissions.models import ProjectText
from submissions.sections import CONTENT_FIELDS, STRUCTURED_FIELDS
from tests.samples import (
    add_word_table,
    docx_of,
    enriched_lines,
    enriched_sample_docx,
    enriched_sample_txt,
    field_pairs,
    sample_lines,
    sample_path,
    sample_texts,
    table_grid,
    table_label,
    txt_blocks,
    word_grids,
)
from workflow import services
from workflow.exceptions import InvalidInput

API = "/api/v1"


@pytest.fixture(autouse=True)
def in_chinese():
    """Messages are asserted in Chinese, whatever language an earlier request left active;
    and a request of these tests in English leaves nothing behind."""
    with translation.override("zh-hans"):
        yield


FUNDING_LINE = 19  # of the first text: 六's prose, "…安排1,751,800.00元，…"
_HEADING_LINE = re.compile(r"^([一二三四五六七八])、(.+)$")


def sample_content() -> list[dict]:
    return [text.values() for text in parse_texts(sample_path().read_bytes(), "sample.txt")]


def txt(lines: list[str], end: str = "\n", encoding: str = "utf-8") -> bytes:
    return end.join(lines).encode(encoding)


def parsed(data: bytes, name: str) -> list[ParsedText]:
    return parse_texts(data, name)


def error_of(data: bytes, name: str) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as caught:
        parse_texts(data, name)
    return caught.value


def each_heading(lines: list[str], change: Callable[[str, str], str]) -> list[str]:
    """The lines with every section heading (一、项目名称 …) rewritten by change(numeral,
    label)."""
    return [
        change(match[1], match[2]) if (match := _HEADING_LINE.match(line)) else line
        for line in lines
    ]


def inline_headings(lines: list[str]) -> list[str]:
    """Each section's first line written on its heading's line: 一、项目名称：新平县…"""
    out: list[str] = []
    skip = False
    for index, line in enumerate(lines):
        if skip:
            skip = False
            continue
        if _HEADING_LINE.match(line):
            out.append(f"{line}：{lines[index + 1]}")
            skip = True
        else:
            out.append(line)
    return out


# --- the variants, each from .txt and from .docx ------------------------------------------

LINE_VARIANTS: dict[str, Callable[[list[str]], list[str]]] = {
    "inline headings": inline_headings,
    "inline headings, half-width colon": lambda lines: [
        line.replace("：", ":", 1) if _HEADING_LINE.match(line) else line
        for line in inline_headings(lines)
    ],
    "numbered 一.": lambda lines: each_heading(lines, lambda n, label: f"{n}.{label}"),
    "numbered 一．": lambda lines: each_heading(lines, lambda n, label: f"{n}．{label}"),
    "heading with a colon": lambda lines: each_heading(lines, lambda n, label: f"{n}、{label}："),
    "ideographic spaces and indentation": lambda lines: [
        "\u3000\u3000" + line.replace("、", "、\u3000", 1)
        if _HEADING_LINE.match(line)
        else ("\u3000\u3000" + line if line else line)
        for line in lines
    ],
    "spaced-out labels": lambda lines: each_heading(
        lines, lambda n, label: f"{n}、{' '.join(label)}"
    ),
}


@pytest.mark.parametrize("variant", LINE_VARIANTS)
def test_a_variant_txt_imports_to_the_samples_content(variant):
    lines = LINE_VARIANTS[variant](sample_lines())

    assert [t.values() for t in parsed(txt(lines), "variant.txt")] == sample_content()


@pytest.mark.parametrize("variant", LINE_VARIANTS)
def test_a_variant_docx_imports_to_the_samples_content(variant):
    lines = LINE_VARIANTS[variant](sample_lines())

    assert [t.values() for t in parsed(docx_of(lines), "variant.docx")] == sample_content()


@pytest.mark.parametrize(
    ("end", "prefix", "encoding"),
    [
        ("\r\n", b"", "utf-8"),
        ("\r", b"", "utf-8"),
        ("\n", b"\xef\xbb\xbf", "utf-8"),
        ("\r\n", b"", "gb18030"),
    ],
    ids=["CRLF", "CR", "BOM", "GB18030"],
)
def test_line_ends_byte_order_mark_and_encoding_do_not_change_the_content(end, prefix, encoding):
    data = prefix + txt(sample_lines(), end, encoding)

    assert [t.values() for t in parsed(data, "variant.txt")] == sample_content()


def test_the_enriched_sample_with_crlf_and_gb18030_keeps_every_row():
    data = "\r\n".join(enriched_lines()).encode("gb18030")

    assert structured_of(parsed(data, "gb.txt")) == filled(expected_structured())


AMOUNTS = [
    "1,751,800元",
    "1751800元",
    "175.18万元",
    "１，７５１，８００．００元",
    "１７５１８００元",
]


@pytest.mark.parametrize("written", AMOUNTS)
@pytest.mark.parametrize("extension", ["txt", "docx"])
def test_the_amount_is_read_however_it_is_written(written, extension):
    lines = sample_lines()
    lines[FUNDING_LINE - 1] = lines[FUNDING_LINE - 1].replace("1,751,800.00元", written)
    data = txt(lines) if extension == "txt" else docx_of(lines)

    first = parsed(data, f"amount.{extension}")[0]

    assert first.amount == Decimal("1751800.00")
    assert written in first.funding  # the prose stays as it was written


def test_a_full_width_comma_after_ascii_digits_is_the_sentences_comma():
    lines = sample_lines()
    lines[FUNDING_LINE - 1] = "分别安排100，200万元。"  # 100 and 200万元, not 100,200万元

    assert parsed(txt(lines), "a.txt")[0].amount == Decimal("2000000.00")


def test_an_inline_amount_on_the_funding_heading_is_read():
    lines = inline_headings(sample_lines())

    assert parsed(txt(lines), "a.txt")[0].amount == Decimal("1751800.00")


# --- the structured parts -----------------------------------------------------------------


def expected_structured() -> list[dict]:
    """Each sample text's ENRICHMENT, cleaned as the service cleans it."""
    return [
        clean_content({name: value for name, value in ENRICHMENT[title].items()}, partial=True)
        for title in (ELECTION_TITLE, PARTY_BUILDING_TITLE)
    ]


def structured_of(texts: list[ParsedText]) -> list[dict]:
    """What each text gives beside its prose, cleaned as the service cleans it, with the
    tables it lacks as empty (as a created draft has them)."""
    result = []
    for text in texts:
        cleaned = clean_content(text.values(), partial=False)
        result.append(
            {
                name: cleaned.get(name, [] if name in tables.BY_FIELD else None)
                for name in STRUCTURED_FIELDS
            }
        )
    return result


def filled(expected: list[dict]) -> list[dict]:
    return [
        {name: row.get(name, [] if name in tables.BY_FIELD else None) for name in STRUCTURED_FIELDS}
        for row in expected
    ]


def test_the_enriched_sample_txt_imports_every_field_and_row():
    texts = parsed(enriched_sample_txt(), "enriched.txt")

    assert structured_of(texts) == filled(expected_structured())
    assert [t.values()["breakdown"] for t in texts] == [
        ENRICHMENT[ELECTION_TITLE]["breakdown"],
        ENRICHMENT[PARTY_BUILDING_TITLE]["breakdown"],
    ]


def test_the_enriched_sample_docx_imports_every_field_and_row():
    texts = parsed(enriched_sample_docx(), "enriched.docx")

    assert structured_of(texts) == filled(expected_structured())


def test_the_enriched_sample_keeps_its_sections_and_amounts():
    for data, name in ((enriched_sample_txt(), "e.txt"), (enriched_sample_docx(), "e.docx")):
        texts = parsed(data, name)
        prose = [{k: v for k, v in t.values().items() if k not in STRUCTURED_FIELDS} for t in texts]
        assert prose == sample_content()


def test_tables_with_bars_columns_in_another_order_and_choice_codes_import_the_same():
    def blocks(enrichment):
        lines = txt_blocks({k: v for k, v in enrichment.items() if k != "breakdown"}, "｜")
        columns = list(reversed(tables.BREAKDOWN.columns))  # 资金来源 first
        lines += [table_label(tables.BREAKDOWN)]
        lines += [
            "| " + " | ".join(str(c.label) for c in columns) + " |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            "| " + " | ".join(str(row[c.key]) for c in columns) + " |"  # codes, plain amounts
            for row in enrichment["breakdown"]
        ]
        return lines

    texts = parsed(txt(enriched_lines(blocks)), "bars.txt")

    assert structured_of(texts) == filled(expected_structured())


def test_a_word_indicator_table_with_a_title_row_and_merged_first_column_is_read():
    rows = ENRICHMENT[ELECTION_TITLE]["indicators"]
    grid = table_grid(tables.INDICATORS, rows)
    for cells in grid[2:6]:
        cells[0] = ""  # 产出指标 written once for its five rows, as the county forms do
    text = sample_texts()[0]
    document = docx.Document()
    for line in text:
        document.add_paragraph(line)
    table = add_word_table(document, [[table_label(tables.INDICATORS)] + [""] * 7, *grid])
    table.cell(0, 0).merge(table.cell(0, 7))  # the title spans the table
    table.cell(2, 0).merge(table.cell(6, 0))
    buffer = io.BytesIO()
    document.save(buffer)

    (parsed_text,) = parsed(buffer.getvalue(), "merged.docx")

    assert parsed_text.structured["indicators"] == tables.clean_rows(tables.INDICATORS, rows)


def test_word_tables_in_a_wide_label_value_form_give_the_project_data():
    enrichment = ENRICHMENT[ELECTION_TITLE]
    pairs = field_pairs(enrichment, ("project_code", "category", "start_date", "end_date"))
    wide = [[*pairs[0], *pairs[1]], [*pairs[2], *pairs[3]]]  # label | value | label | value
    text = sample_texts()[0]

    (parsed_text,) = parsed(docx_of(text, {len(text) - 1: [wide]}), "wide.docx")

    assert parsed_text.structured == {
        "project_code": "530427-2025-ZZB-001",
        "category": "specific_purpose",
        "start_date": "2025-09-01",
        "end_date": "2026-03-31",
    }


def test_dates_and_amounts_in_a_county_s_own_writing_are_read():
    text = sample_texts()[0]
    lines = [
        *text,
        "项目信息",
        "开始日期：2025年9月1日",
        "结束日期：2026/3/31",
        "金额：175.18万元",
        "拟公开：否",
    ]

    (parsed_text,) = parsed(txt(lines), "dates.txt")

    assert parsed_text.structured == {
        "start_date": "2025-09-01",
        "end_date": "2026-03-31",
        "for_publication": False,
    }
    assert parsed_text.amount == Decimal("1751800.00")


def test_an_amount_in_the_project_data_is_the_texts_amount_even_without_one_in_the_prose():
    lines = sample_texts()[0]
    lines[FUNDING_LINE - 1] = "经费由县财政统筹安排。"

    (parsed_text,) = parsed(txt([*lines, "项目信息", "金额（元）：1,751,800.00"]), "a.txt")

    assert parsed_text.amount == Decimal("1751800.00")


def test_a_target_may_run_over_several_lines():
    lines = [*sample_texts()[0], "绩效目标", "年度目标：第一句。", "第二句。"]

    (parsed_text,) = parsed(txt(lines), "a.txt")

    assert parsed_text.structured == {"target_annual": "第一句。\n第二句。"}


def test_blocks_end_section_eight_and_each_text_keeps_its_own():
    texts = parsed(enriched_sample_txt(), "e.txt")

    assert [t.outcomes for t in texts] == [c["outcomes"] for c in sample_content()]
    assert [t.structured["project_code"] for t in texts] == [
        "530427-2025-ZZB-001",
        "530427-2025-ZZB-002",
    ]


# --- refusals -----------------------------------------------------------------------------


def with_breakdown_cell(
    lines: list[str], row: int, column: str, value: str
) -> tuple[list[str], int]:
    """The enriched lines with one cell of the first text's 资金明细 row ``row`` (from 1)
    replaced; also the 1-based line it is on."""
    lines = list(lines)
    label = table_label(tables.BREAKDOWN)
    header = lines.index(label) + 1
    columns = lines[header].split("\t")
    at = header + row
    cells = lines[at].split("\t")
    cells[columns.index(column)] = value
    lines[at] = "\t".join(cells)
    return lines, at + 1


def test_a_bad_amount_in_a_txt_table_row_is_refused_naming_the_line_row_and_column():
    lines, line = with_breakdown_cell(enriched_lines(), 3, "金额（元）", "约二十四万")

    error = error_of(txt(lines), "bad.txt")

    assert error.line == line
    assert str(error).startswith(f"第{line}行：资金明细第 3 行（县级工作专班经费）“金额（元）”：")


def test_an_unknown_choice_in_a_txt_table_is_refused_naming_the_choices():
    lines, line = with_breakdown_cell(enriched_lines(), 2, "资金来源", "中央财政")

    error = error_of(txt(lines), "bad.txt")

    assert error.line == line
    assert "“资金来源”：应为以下之一：本级财政、上级补助、其他" in str(error)


def test_an_unknown_column_in_a_txt_header_is_refused_naming_the_header_line():
    lines = enriched_lines()
    header = lines.index(table_label(tables.BREAKDOWN)) + 1
    lines[header] = lines[header].replace("测算依据", "备注")

    error = error_of(txt(lines), "bad.txt")

    assert error.line == header + 1
    assert "“备注”不是资金明细的列" in str(error)


def test_a_txt_header_without_a_required_column_is_refused():
    lines = [*sample_texts()[0], "资金明细", "测算依据\t资金来源", "办公\t本级财政"]

    error = error_of(txt(lines), "bad.txt")

    assert error.line == len(sample_texts()[0]) + 2
    assert "资金明细的表头缺少“支出事项”" in str(error)


def test_a_row_with_more_cells_than_its_header_is_refused_naming_its_line():
    lines = [*sample_texts()[0], "分年度资金", "年度\t金额（元）", "2025\t100\t多余"]

    assert error_of(txt(lines), "bad.txt").line == len(sample_texts()[0]) + 3


def test_an_unknown_label_in_the_project_data_is_refused_naming_its_line():
    lines = [*sample_texts()[0], "项目信息", "项目编码：530427-2025-ZZB-001", "项目编号：1"]

    error = error_of(txt(lines), "bad.txt")

    assert error.line == len(sample_texts()[0]) + 3
    assert "应为“标签：值”" in str(error)


def test_a_bad_date_in_the_project_data_is_refused_naming_its_line_and_field():
    lines = [*sample_texts()[0], "项目信息", "开始日期：九月"]

    error = error_of(txt(lines), "bad.txt")

    assert str(error) == f"第{len(sample_texts()[0]) + 2}行：开始日期：应为日期，如 2025-09-01。"


def test_a_project_that_ends_before_it_starts_is_refused_naming_the_end_date():
    lines = [*sample_texts()[0], "项目信息", "开始日期：2025-09-01", "结束日期：2025-01-01"]

    error = error_of(txt(lines), "bad.txt")

    assert error.line == len(sample_texts()[0]) + 3
    assert "早于开始日期" in str(error)


def test_a_table_given_twice_in_one_text_is_refused():
    block = ["分年度资金", "年度\t金额（元）", "2025\t100"]
    lines = [*sample_texts()[0], *block, *block]

    error = error_of(txt(lines), "bad.txt")

    assert error.line == len(sample_texts()[0]) + 4
    assert "分年度资金重复" in str(error)


def enriched_docx_with(change: Callable[[list[list[list[str]]]], None]) -> bytes:
    """The enriched .docx with the first text's Word tables changed in place."""
    lines: list[str] = []
    after = {}
    for index, text in enumerate(sample_texts()):
        lines += text
        grids = word_grids(ENRICHMENT[(ELECTION_TITLE, PARTY_BUILDING_TITLE)[index]])
        if index == 0:
            change(grids)
        after[len(lines) - 1] = grids
    return docx_of(lines, after)


def test_a_bad_amount_in_a_word_table_is_refused_naming_the_table_row_and_column():
    def damage(grids):
        grids[3][3][1] = "二十四万"  # table 4 (资金明细), the 3rd row under its header

    error = error_of(enriched_docx_with(damage), "bad.docx")

    assert error.line is None
    assert str(error).startswith("第 4 个表格（资金明细）第 3 行（县级工作专班经费）“金额（元）”：")


def test_an_indicator_under_the_wrong_level_is_refused_naming_its_word_table_and_row():
    def damage(grids):
        grids[5][2][1] = "经济效益指标"  # 绩效指标, row 2: 产出指标 / 经济效益指标

    error = error_of(enriched_docx_with(damage), "bad.docx")

    assert str(error).startswith("第 6 个表格（绩效指标）第 2 行（召开动员大会和培训会议）：")
    assert "不属于一级指标“产出指标”" in str(error)


def test_a_word_table_that_is_neither_a_table_nor_label_value_pairs_is_refused():
    text = sample_texts()[0]
    data = docx_of(text, {len(text) - 1: [[["甲", "乙", "丙"], ["1", "2", "3"]]]})

    error = error_of(data, "odd.docx")

    assert str(error).startswith("第 1 个表格：读不出这个表格")


def test_an_unknown_label_in_a_word_label_value_table_is_refused_naming_its_row():
    text = sample_texts()[0]
    grid = [["项目编码", "530427-2025-ZZB-001"], ["经办人", "王五"]]

    error = error_of(docx_of(text, {len(text) - 1: [grid]}), "odd.docx")

    assert str(error) == "第 1 个表格第 2 行：“经办人”不是项目信息或绩效目标的标签。"


# --- refusals through the service and the API: nothing is created --------------------------


def bad_second_text() -> tuple[bytes, int]:
    """The enriched .txt whose second text has a bad 资金明细 amount (so a partial import
    would have created the first); also the line."""
    lines = enriched_lines()
    second = len(sample_texts()[0]) + len(txt_blocks(ENRICHMENT[ELECTION_TITLE])) + 1
    tail, line = with_breakdown_cell(lines[second:], 4, "金额（元）", "十七万")
    return txt([*lines[:second], *tail]), second + line


def test_the_service_refuses_a_bad_row_naming_its_line_and_creates_nothing(cast):
    data, line = bad_second_text()
    before = ProjectText.objects.count()

    with pytest.raises(InvalidInput) as caught:
        services.import_texts(actor=cast.org_drafter, filename="bad.txt", data=data)

    assert caught.value.errors["file"][0].startswith(f"第{line}行：资金明细第 4 行")
    assert ProjectText.objects.count() == before


def test_the_api_refuses_a_bad_row_with_400_naming_its_line_and_creates_nothing(api, cast):
    data, line = bad_second_text()
    before = ProjectText.objects.count()
    upload = io.BytesIO(data)
    upload.name = "bad.txt"

    response = api(cast.org_drafter).post(
        f"{API}/texts/import/", {"file": upload}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["file"][0].startswith(f"第{line}行：资金明细第 4 行")
    assert ProjectText.objects.count() == before


def test_the_api_refuses_a_bad_word_table_with_400_naming_it_and_creates_nothing(api, cast):
    def damage(grids):
        grids[3][3][1] = "二十四万"

    upload = io.BytesIO(enriched_docx_with(damage))
    upload.name = "bad.docx"
    before = ProjectText.objects.count()

    response = api(cast.org_drafter).post(
        f"{API}/texts/import/", {"file": upload}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["file"][0].startswith("第 4 个表格（资金明细）第 3 行")
    assert ProjectText.objects.count() == before


def test_the_service_creates_both_enriched_drafts_with_every_row(cast):
    texts = services.import_texts(
        actor=cast.org_drafter, filename="e.docx", data=enriched_sample_docx()
    )

    assert [t.breakdown for t in texts] == [
        ENRICHMENT[ELECTION_TITLE]["breakdown"],
        ENRICHMENT[PARTY_BUILDING_TITLE]["breakdown"],
    ]
    assert [len(t.indicators) for t in texts] == [8, 11]


# --- the export reads back ----------------------------------------------------------------


def test_the_docx_export_imports_back_to_every_field_and_row(api, cast):
    texts = services.import_texts(
        actor=cast.org_drafter, filename="e.txt", data=enriched_sample_txt()
    )
    for text in texts:
        response = api(cast.org_reviewer).get(f"{API}/texts/{text.pk}/export.docx")
        assert response.status_code == 200

        (again,) = parse_texts(response.content, "export.docx")

        assert again.department_name == cast.org.name
        cleaned = clean_content(again.values(), partial=False)
        for name in CONTENT_FIELDS:
            default = [] if name in tables.BY_FIELD else getattr(ProjectText(), name)
            assert cleaned.get(name, default) == getattr(text, name), name


def test_the_export_writes_the_tables_as_word_tables_with_the_labels_of_tables_py():
    (text,) = parsed(txt([*sample_texts()[0], *txt_blocks(ENRICHMENT[ELECTION_TITLE])]), "e.txt")

    document = docx.Document(io.BytesIO(render_docx(text.department_name, text.values())))

    headers = [[cell.text for cell in table.rows[0].cells] for table in document.tables]
    for table in tables.TABLES:
        assert table_grid(table, [])[0] in headers
    breakdown = next(t for t in document.tables if t.rows[0].cells[0].text == "支出事项")
    assert len(breakdown.rows) == 1 + len(ENRICHMENT[ELECTION_TITLE]["breakdown"])


def test_the_export_of_an_english_request_is_still_in_the_documents_words(api, cast):
    (text, _second) = services.import_texts(
        actor=cast.org_drafter, filename="e.txt", data=enriched_sample_txt()
    )

    response = api(cast.org_reviewer).get(
        f"{API}/texts/{text.pk}/export.docx", HTTP_ACCEPT_LANGUAGE="en"
    )

    (again,) = parse_texts(response.content, "export.docx")
    assert again.structured["breakdown"] == text.breakdown


def test_importing_a_project_code_the_department_already_uses_names_the_text(cast):
    services.import_texts(actor=cast.org_drafter, filename="e.txt", data=enriched_sample_txt())
    before = ProjectText.objects.count()

    with pytest.raises(InvalidInput) as caught:
        services.import_texts(actor=cast.org_drafter, filename="e.txt", data=enriched_sample_txt())

    assert caught.value.errors["file"][0].startswith("第1行起的文本：项目编码 ")
    assert "530427-2025-ZZB-001" in caught.value.errors["file"][0]
    assert ProjectText.objects.count() == before


def test_the_import_preview_counts_the_rows_of_each_table_it_found(cast, client):
    client.force_login(cast.org_drafter)
    upload = SimpleUploadedFile("enriched.docx", enriched_sample_docx())

    html = client.post("/texts/import/", {"step": "preview", "file": upload}).content.decode()

    rows = len(ENRICHMENT[ELECTION_TITLE]["breakdown"])
    assert f"资金明细 {rows} 行" in html
    assert f"绩效指标 {len(ENRICHMENT[ELECTION_TITLE]['indicators'])} 行" in html
    assert not ProjectText.objects.exists()
