"""The documents that go out: the 审批表 of a text (.docx, PDF), the publication bundle of a
department's budget year (公开文本, .docx and PDF, phone numbers redacted, numbered （一）（二）…)
and the exchange workbook (.xlsx), through the API and the pages, with the sample texts'
realistic rows (`submissions.demo_content.ENRICHMENT`)."""

import io
import re
from decimal import Decimal
from urllib.parse import quote

import docx
import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from submissions import tables
from submissions.demo_content import ELECTION_TITLE, ENRICHMENT, PARTY_BUILDING_TITLE
from submissions.models import ProjectText
from tests.factories import act, make_text
from workflow import services

PHONE_IN_PROSE = "0877-7019999"
OPINIONS = {"dept_review": "同意上报", "finance_review": "资金测算合理", "approval": "同意立项"}


def enriched(cast, title, **overrides):
    """A draft of org with `title`'s ENRICHMENT rows; its amount is their total."""
    content = ENRICHMENT[title]
    amount = tables.total(content["breakdown"])
    return make_text(
        cast.org_drafter,
        cast.org,
        title=title,
        amount=f"{amount:.2f}",
        funding=f"安排{amount:,.2f}元。",
        **{**content, **overrides},
    )


def approve(cast, text):
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "dept_approve", comment=OPINIONS["dept_review"])
    act(cast.finance, text, "finance_approve", comment=OPINIONS["finance_review"])
    act(cast.approver, text, "approve", comment=OPINIONS["approval"])
    return ProjectText.objects.get(pk=text.pk)


@pytest.fixture
def election(cast):
    """The first sample text with its rows, approved at every stage with an opinion."""
    return approve(cast, enriched(cast, ELECTION_TITLE, plan=f"咨询电话 {PHONE_IN_PROSE}。"))


@pytest.fixture
def party_building(cast):
    return approve(cast, enriched(cast, PARTY_BUILDING_TITLE))


def docx_text(content: bytes) -> str:
    """Every paragraph and table cell of a .docx, one per line."""
    document = docx.Document(io.BytesIO(content))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.extend(cell.text for cell in row.cells)
    return "\n".join(lines)


def docx_table_rows(content: bytes) -> list[list[str]]:
    document = docx.Document(io.BytesIO(content))
    return [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]


def pdf_text(content: bytes) -> str:
    """The PDF's text without white space (a long cell wraps over lines)."""
    pages = PdfReader(io.BytesIO(content)).pages
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in pages))


def plain(value: str) -> str:
    return re.sub(r"\s+", "", value)


def cells(table: tables.Table, row: dict) -> list[str]:
    return [tables.display_cell(column, row[column.key]) for column in table.columns]


# --- The 审批表 as Word ---------------------------------------------------------------------


def test_the_approval_sheet_docx_has_every_breakdown_row_and_the_total(cast, api, election):
    response = api(cast.org_drafter).get(f"/api/v1/texts/{election.pk}/approval-form.docx")

    assert response.status_code == 200
    rows = docx_table_rows(response.content)
    for row in ENRICHMENT[ELECTION_TITLE]["breakdown"]:
        assert cells(tables.BREAKDOWN, row) in rows
    assert any(r[0] == "合计" and r[-3] == "1,751,800.00" for r in rows)


def test_the_approval_sheet_docx_has_every_indicator_and_milestone(cast, api, election):
    response = api(cast.org_drafter).get(f"/api/v1/texts/{election.pk}/approval-form.docx")

    rows = docx_table_rows(response.content)
    for row in ENRICHMENT[ELECTION_TITLE]["indicators"]:
        assert cells(tables.INDICATORS, row) in rows
    for row in ENRICHMENT[ELECTION_TITLE]["milestones"]:
        assert cells(tables.MILESTONES, row) in rows
    for row in ENRICHMENT[ELECTION_TITLE]["yearly_amounts"]:
        assert cells(tables.YEARLY_AMOUNTS, row) in rows


def test_the_approval_sheet_docx_has_the_head_targets_and_sections(cast, api, election):
    text = docx_text(
        api(cast.org_drafter).get(f"/api/v1/texts/{election.pk}/approval-form.docx").content
    )

    assert "2025年度部门预算项目审批表" in text
    assert ELECTION_TITLE in text and "中共新平彝族傣族自治县委员会组织部" in text
    assert "1,751,800.00元" in text and "壹佰柒拾伍万壹仟捌佰元整" in text
    assert "530427-2025-ZZB-001" in text and "特定目标类" in text
    for heading in ("二、立项依据", "六、资金安排情况", "七、项目实施计划", "八、项目实施成效"):
        assert heading in text
    assert "项目支出绩效目标表" in text
    assert ENRICHMENT[ELECTION_TITLE]["target_overall"] in text
    assert ENRICHMENT[ELECTION_TITLE]["target_annual"] in text


def test_the_approval_sheet_docx_has_each_stages_opinion_signer_and_date(cast, api, election):
    rows = docx_table_rows(
        api(cast.org_drafter).get(f"/api/v1/texts/{election.pk}/approval-form.docx").content
    )
    today = timezone.localdate().isoformat()

    for stage, signer in (
        ("部门审核", "org_reviewer"),
        ("财政审核", "finance"),
        ("审批", "approver"),
    ):
        opinion = OPINIONS[
            {"部门审核": "dept_review", "财政审核": "finance_review"}.get(stage, "approval")
        ]
        assert [stage, opinion, signer, today] in rows


def test_a_stage_not_reached_is_a_blank_row_to_sign_by_hand(cast, api):
    text = enriched(cast, ELECTION_TITLE)
    act(cast.org_drafter, text, "submit")

    rows = docx_table_rows(
        api(cast.org_drafter).get(f"/api/v1/texts/{text.pk}/approval-form.docx").content
    )

    assert ["部门审核", "", "", ""] in rows
    assert ["审批", "", "", ""] in rows


def test_the_approval_sheet_downloads_under_its_chinese_title(cast, api, election):
    response = api(cast.org_drafter).get(f"/api/v1/texts/{election.pk}/approval-form.docx")

    disposition = response["Content-Disposition"]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f'filename="approval-form-{election.pk}.docx"' in disposition
    assert "filename*=UTF-8''" + quote(f"{ELECTION_TITLE}-审批表.docx") in disposition


# --- The 审批表 as PDF ----------------------------------------------------------------------


def test_the_approval_sheet_pdf_is_a_pdf_holding_every_row_and_opinion(cast, api, election):
    response = api(cast.org_drafter).get(f"/api/v1/texts/{election.pk}/approval-form.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    content = ENRICHMENT[ELECTION_TITLE]
    for row in content["breakdown"]:
        assert plain(row["item"]) in text and f"{Decimal(row['amount']):,.2f}" in text
    for row in content["indicators"]:
        assert plain(row["name"]) in text
    for row in content["milestones"]:
        assert plain(row["task"]) in text
    for opinion in OPINIONS.values():
        assert opinion in text
    assert "壹佰柒拾伍万壹仟捌佰元整" in text


def test_the_pdf_renderer_fetches_nothing_a_document_names(monkeypatch):
    import urllib.request

    from submissions.documents.pdf import html_to_pdf

    reached = []
    monkeypatch.setattr(
        urllib.request.OpenerDirector, "open", lambda self, url, *a, **k: reached.append(url)
    )

    pdf = html_to_pdf(
        '<link rel="stylesheet" href="file:///etc/passwd"><p>正文</p>'
        '<img src="http://example.com/x.png"><img src="data:image/png;base64,AAAA">'
    )

    assert pdf.startswith(b"%PDF-")
    assert reached == []


def test_markup_in_a_text_is_printed_as_the_text_it_is(cast, api):
    text = make_text(cast.org_drafter, cast.org, overview='<img src="http://example.com/x.png">')

    response = api(cast.org_drafter).get(f"/api/v1/texts/{text.pk}/approval-form.pdf")

    assert response.status_code == 200
    assert '<imgsrc="http://example.com/x.png">' in pdf_text(response.content)


# --- Who may download the 审批表 -------------------------------------------------------------


@pytest.mark.parametrize("extension", ["docx", "pdf"])
def test_the_approval_sheet_is_404_for_someone_who_may_not_see_the_text(
    cast, api, election, extension
):
    url = f"/api/v1/texts/{election.pk}/approval-form.{extension}"

    assert api(cast.edu_drafter).get(url).status_code == 404
    assert api(cast.edu_reviewer).get(url).status_code == 404
    assert api(cast.org_drafter).get("/api/v1/texts/999999/approval-form.docx").status_code == 404


def test_the_approval_sheet_needs_a_login(api, election):
    assert api().get(f"/api/v1/texts/{election.pk}/approval-form.docx").status_code in (401, 403)


def test_the_approval_sheet_pages_download_for_whoever_sees_the_text(cast, client, election):
    client.force_login(cast.auditor)

    word = client.get(f"/texts/{election.pk}/approval-form.docx")
    pdf = client.get(f"/texts/{election.pk}/approval-form.pdf")

    assert word.status_code == 200 and ELECTION_TITLE in docx_text(word.content)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    client.force_login(cast.edu_drafter)
    assert client.get(f"/texts/{election.pk}/approval-form.docx").status_code == 404


def test_the_approval_form_page_shows_the_tables_and_offers_the_files(cast, client, election):
    client.force_login(cast.org_drafter)

    html = client.get(f"/texts/{election.pk}/approval-form/").content.decode()

    for row in ENRICHMENT[ELECTION_TITLE]["breakdown"]:
        assert row["item"] in html
    for row in ENRICHMENT[ELECTION_TITLE]["indicators"]:
        assert row["name"] in html
    assert f'href="/texts/{election.pk}/approval-form.docx"' in html
    assert f'href="/texts/{election.pk}/approval-form.pdf"' in html


def test_the_text_page_tools_offer_the_approval_sheet_files(cast, client, election):
    client.force_login(cast.org_drafter)

    html = client.get(f"/texts/{election.pk}/").content.decode()

    assert "下载审批表（Word）" in html and "下载审批表（PDF）" in html
    assert f'href="/texts/{election.pk}/approval-form.docx"' in html


# --- The publication bundle -----------------------------------------------------------------


def bundle(api, user, extension="docx", department="org", year=2025):
    return api(user).get(f"/api/v1/publications/{department}/{year}.{extension}")


def test_the_bundle_numbers_the_approved_texts_by_project_code(cast, api, election, party_building):
    document = docx.Document(io.BytesIO(bundle(api, cast.auditor).content))
    headings = [p.text for p in document.paragraphs if "部门预算重点领域财政项目文本" in p.text]

    assert headings == [
        "2025年部门预算重点领域财政项目文本（一）",
        "2025年部门预算重点领域财政项目文本（二）",
    ]
    titles = [
        p.text for p in document.paragraphs if p.text in (ELECTION_TITLE, PARTY_BUILDING_TITLE)
    ]
    assert titles == [ELECTION_TITLE, PARTY_BUILDING_TITLE]  # ZZB-001 before ZZB-002


def test_the_bundle_orders_by_project_code_not_by_creation(cast, api):
    later = approve(cast, enriched(cast, PARTY_BUILDING_TITLE, project_code="530427-2025-ZZB-000"))
    approve(cast, enriched(cast, ELECTION_TITLE))

    document = docx.Document(io.BytesIO(bundle(api, cast.auditor).content))
    titles = [
        p.text for p in document.paragraphs if p.text in (ELECTION_TITLE, PARTY_BUILDING_TITLE)
    ]

    assert titles[0] == later.title


def test_the_bundle_heads_each_text_with_the_department_as_the_sample_does(cast, api, election):
    paragraphs = [
        p.text for p in docx.Document(io.BytesIO(bundle(api, cast.auditor).content)).paragraphs
    ]

    at = paragraphs.index("2025年部门预算重点领域财政项目文本（一）")
    assert paragraphs[at - 1] == "中共新平彝族傣族自治县委员会组织部"
    assert paragraphs[at + 1] == "一、项目名称"


def test_the_bundle_has_each_texts_breakdown_and_performance_targets(
    cast, api, election, party_building
):
    content = bundle(api, cast.auditor).content
    rows, text = docx_table_rows(content), docx_text(content)

    for title in (ELECTION_TITLE, PARTY_BUILDING_TITLE):
        for row in ENRICHMENT[title]["breakdown"]:
            assert cells(tables.BREAKDOWN, row) in rows
        for row in ENRICHMENT[title]["indicators"]:
            assert cells(tables.INDICATORS, row) in rows
        assert ENRICHMENT[title]["target_overall"] in text
    assert text.count("项目支出绩效目标表") == 2


def test_the_bundle_redacts_phone_numbers_and_leaves_out_the_contact_phone(cast, api, election):
    text = docx_text(bundle(api, cast.auditor).content)

    assert PHONE_IN_PROSE not in text
    assert "咨询电话 【已隐去】。" in text
    assert ENRICHMENT[ELECTION_TITLE]["contact_phone"] not in text
    assert "联系电话" not in text


def test_the_bundle_as_pdf_holds_the_rows_with_phones_redacted(cast, api, election, party_building):
    response = bundle(api, cast.auditor, "pdf")

    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert "2025年部门预算重点领域财政项目文本（一）" in text
    assert "2025年部门预算重点领域财政项目文本（二）" in text
    for title in (ELECTION_TITLE, PARTY_BUILDING_TITLE):
        for row in ENRICHMENT[title]["breakdown"]:
            assert plain(row["item"]) in text
        for row in ENRICHMENT[title]["indicators"]:
            assert plain(row["name"]) in text
    assert PHONE_IN_PROSE not in text and "【已隐去】" in text
    assert ENRICHMENT[PARTY_BUILDING_TITLE]["contact_phone"] not in text


def test_the_bundle_leaves_out_texts_not_approved_and_other_years(cast, api, election):
    cast.text(title="尚在编制的项目")
    cast.text_in("approval", title="待审批的项目")
    approve(cast, cast.text(title="2026年度的项目", fiscal_year=2026))

    text = docx_text(bundle(api, cast.auditor).content)

    assert ELECTION_TITLE in text
    assert "尚在编制的项目" not in text and "待审批的项目" not in text
    assert "2026年度的项目" not in text
    assert "（二）" not in text


def test_a_year_without_approved_texts_is_a_404_saying_so(cast, api, election):
    cast.text_in("approval", title="待审批的项目", fiscal_year=2024)

    response = bundle(api, cast.auditor, year=2024)

    assert response.status_code == 404
    assert (
        response.json()["detail"]
        == "中共新平彝族傣族自治县委员会组织部 2024 年度没有已批准的项目文本，无可公开的文本。"
    )


def test_an_unknown_department_is_a_404_naming_it(cast, api):
    response = bundle(api, cast.auditor, department="nowhere")

    assert response.status_code == 404
    assert "nowhere" in response.json()["detail"]


def test_a_year_out_of_range_is_a_404_not_an_error(cast, api):
    assert bundle(api, cast.auditor, year=99999).status_code == 404


@pytest.mark.parametrize("extension", ["docx", "pdf"])
def test_the_bundle_is_404_for_someone_who_may_see_none_of_its_texts(
    cast, api, election, extension
):
    response = bundle(api, cast.edu_drafter, extension)

    # The same answer as for a year with nothing approved: the texts' existence does not leak.
    assert response.status_code == 404
    assert response.json()["detail"] == (
        "中共新平彝族傣族自治县委员会组织部 2025 年度没有已批准的项目文本，无可公开的文本。"
    )


def test_the_publications_page_lists_the_bundles_the_user_may_download(cast, client, election):
    client.force_login(cast.org_drafter)

    html = client.get("/publications/").content.decode()

    assert 'href="/publications/org/2025.docx"' in html
    assert 'href="/publications/org/2025.pdf"' in html
    assert "1,751,800.00元" in html
    client.force_login(cast.edu_drafter)
    assert "/publications/org/" not in client.get("/publications/").content.decode()


def test_the_publications_page_downloads_and_refuses_like_the_api(cast, client, election):
    client.force_login(cast.org_reviewer)

    response = client.get("/publications/org/2025.docx")
    refused = client.get("/publications/org/2024.pdf")

    assert response.status_code == 200
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert refused.status_code == 404
    assert "2024 年度没有已批准的项目文本" in refused.content.decode()


def test_the_text_list_links_the_publications_page(cast, client):
    client.force_login(cast.org_drafter)

    assert 'href="/publications/"' in client.get("/texts/").content.decode()


# --- The exchange workbook ------------------------------------------------------------------


def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200, response.content[:300]
    return openpyxl.load_workbook(io.BytesIO(response.content))


def records(sheet) -> list[dict]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_workbook_has_a_sheet_of_projects_breakdown_rows_and_indicators(cast, api, election):
    book = workbook(api(cast.org_drafter).get("/api/v1/texts/export.xlsx"))

    assert book.sheetnames == ["项目", "资金明细", "绩效指标"]
    headers = [c.value for c in book["资金明细"][1]]
    assert headers == [
        "编号",
        "项目编码",
        "项目名称",
        *(str(c.label) for c in tables.BREAKDOWN.columns),
    ]
    headers = [c.value for c in book["绩效指标"][1]]
    assert headers == [
        "编号",
        "项目编码",
        "项目名称",
        *(str(c.label) for c in tables.INDICATORS.columns),
    ]


def test_the_workbook_lists_each_project_with_its_data(cast, api, election):
    book = workbook(api(cast.org_drafter).get("/api/v1/texts/export.xlsx"))

    [project] = records(book["项目"])
    assert project["编号"] == election.pk
    assert project["项目编码"] == "530427-2025-ZZB-001"
    assert project["项目名称"] == ELECTION_TITLE
    assert project["部门"] == "中共新平彝族傣族自治县委员会组织部"
    assert project["预算年度"] == 2025
    assert project["项目类别"] == "特定目标类" and project["新增或延续"] == "新增"
    assert project["开始日期"].date().isoformat() == "2025-09-01"
    assert project["金额（元）"] == 1751800
    assert project["状态"] == "已批准"


def test_the_workbook_holds_every_breakdown_and_indicator_row(cast, api, election, party_building):
    book = workbook(api(cast.auditor).get("/api/v1/texts/export.xlsx"))

    breakdown = [r for r in records(book["资金明细"]) if r["支出事项"] != "合计"]
    indicators = records(book["绩效指标"])
    for title in (ELECTION_TITLE, PARTY_BUILDING_TITLE):
        rows = ENRICHMENT[title]["breakdown"]
        assert [(r["支出事项"], r["测算依据"]) for r in breakdown if r["项目名称"] == title] == [
            (row["item"], row["basis"]) for row in rows
        ]
        names = [r["三级指标"] for r in indicators if r["项目名称"] == title]
        assert names == [row["name"] for row in ENRICHMENT[title]["indicators"]]
    assert {r["资金来源"] for r in breakdown} <= {"本级财政", "上级补助", "其他"}
    assert {r["一级指标"] for r in indicators} == {"产出指标", "效益指标", "满意度指标"}


def test_each_projects_breakdown_total_equals_its_amount(cast, api, election, party_building):
    book = workbook(api(cast.auditor).get("/api/v1/texts/export.xlsx"))
    sheet = book["资金明细"]
    amounts = {r["编号"]: Decimal(str(r["金额（元）"])) for r in records(book["项目"])}

    totals, summed = {}, {}
    for row in sheet.iter_rows(min_row=2):
        amount = Decimal(str(row[4].value))
        if row[3].value == "合计":
            totals[row[0].value] = amount
        else:
            summed[row[0].value] = summed.get(row[0].value, Decimal(0)) + amount
    assert totals == summed == amounts
    assert totals[election.pk] == Decimal("1751800.00")


def test_the_workbooks_amounts_are_numbers_with_two_places(cast, api, election):
    book = workbook(api(cast.auditor).get("/api/v1/texts/export.xlsx"))

    amount = book["项目"]["J2"]
    row = book["资金明细"]["E2"]
    assert isinstance(amount.value, (int, float)) and amount.number_format == "#,##0.00"
    assert row.value == 180000 and row.number_format == "#,##0.00"


def test_the_workbook_is_filtered_like_the_text_list(cast, api, election):
    draft = cast.text(title="草稿项目")
    edu = make_text(cast.edu_drafter, cast.edu, title="教育局的项目")
    client = api(cast.auditor)

    def titles(query):
        return [
            r["项目名称"]
            for r in records(workbook(client.get(f"/api/v1/texts/export.xlsx?{query}"))["项目"])
        ]

    assert set(titles("")) == {ELECTION_TITLE, draft.title, edu.title}
    assert titles("state=approved") == [ELECTION_TITLE]
    assert set(titles("department=org")) == {ELECTION_TITLE, draft.title}
    assert titles("fiscal_year=2024") == []


def test_the_workbook_holds_only_texts_the_user_may_see(cast, api, election):
    make_text(cast.edu_drafter, cast.edu, title="教育局的项目")

    book = workbook(api(cast.edu_drafter).get("/api/v1/texts/export.xlsx"))

    assert [r["项目名称"] for r in records(book["项目"])] == ["教育局的项目"]
    assert records(book["资金明细"]) == []


def test_a_bad_filter_is_a_400_naming_it(cast, api):
    response = api(cast.auditor).get("/api/v1/texts/export.xlsx?state=nonsense")

    assert response.status_code == 400
    assert "state" in response.json()


def test_a_title_that_looks_like_a_formula_stays_text(cast, api):
    make_text(cast.org_drafter, cast.org, title='=HYPERLINK("http://example.com","点击")')

    book = workbook(api(cast.org_drafter).get("/api/v1/texts/export.xlsx"))

    cell = book["项目"]["C2"]
    assert cell.value == '=HYPERLINK("http://example.com","点击")'
    assert cell.data_type == "s"


def test_the_text_list_exports_with_its_current_filters(cast, client, election):
    cast.text(title="草稿项目")
    client.force_login(cast.org_drafter)

    html = client.get("/texts/?state=approved&fiscal_year=2025").content.decode()
    assert 'href="/texts/export.xlsx?state=approved&amp;fiscal_year=2025"' in html
    book = workbook(client.get("/texts/export.xlsx?state=approved&fiscal_year=2025"))

    assert [r["项目名称"] for r in records(book["项目"])] == [ELECTION_TITLE]


def test_the_text_lists_export_refuses_a_bad_filter_with_a_message(cast, client):
    client.force_login(cast.org_drafter)

    response = client.get("/texts/export.xlsx?amount_min=abc")

    assert response.status_code == 400
    assert "金额" in response.content.decode()


def _with_texts(cast, n):
    for i in range(n - ProjectText.objects.count()):
        rows = ENRICHMENT[ELECTION_TITLE]
        make_text(
            cast.org_drafter,
            cast.org,
            title=f"项目 {i}",
            breakdown=rows["breakdown"],
            indicators=rows["indicators"],
        )


@pytest.mark.parametrize(
    "url", ["/api/v1/texts/export.xlsx", "/texts/export.xlsx"], ids=["api", "page"]
)
def test_the_workbook_costs_the_same_queries_for_2_and_20_texts(
    cast, client, url, django_assert_num_queries
):
    client.force_login(cast.org_drafter)
    _with_texts(cast, 2)
    client.get(url)  # warm the caches a first request fills (the workflow catalogue)
    with CaptureQueriesContext(connection) as two:
        assert client.get(url).status_code == 200
    _with_texts(cast, 20)

    with django_assert_num_queries(len(two.captured_queries)):
        response = client.get(url)

    assert len(records(workbook(response)["项目"])) == 20


def test_the_bundle_costs_the_same_queries_for_2_and_20_texts(cast, api, django_assert_num_queries):
    for i in range(2):
        approve(cast, cast.text(title=f"项目 {i}", project_code=f"C{i:03d}"))
    client = api(cast.auditor)
    client.get("/api/v1/publications/org/2025.docx")
    with CaptureQueriesContext(connection) as two:
        client.get("/api/v1/publications/org/2025.docx")
    for i in range(2, 20):
        approve(cast, cast.text(title=f"项目 {i}", project_code=f"C{i:03d}"))

    with django_assert_num_queries(len(two.captured_queries)):
        response = client.get("/api/v1/publications/org/2025.docx")

    assert "（二十）" in docx_text(response.content)


# --- In English -----------------------------------------------------------------------------


def test_an_english_approval_sheet_has_english_labels_and_no_chinese_of_ours(
    cast, client, election
):
    client.force_login(cast.org_drafter)
    client.cookies["django_language"] = "en"

    text = docx_text(client.get(f"/texts/{election.pk}/approval-form.docx").content)

    assert "Approval form" in text or "approval form" in text
    written = [
        getattr(election, f)
        for f in (
            "title",
            "basis",
            "implementer",
            "overview",
            "content",
            "funding",
            "plan",
            "outcomes",
            "target_overall",
            "target_annual",
            "contact_person",
        )
    ]
    written += [election.department.name, *OPINIONS.values()]
    for table in tables.TABLES:
        for row in getattr(election, table.field):
            written += [str(v) for k, v in row.items() if table.column(k).kind == tables.Kind.TEXT]
    for value in sorted(written, key=len, reverse=True):
        text = text.replace(value, "")
    assert re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", text) == []


def test_an_edited_indicator_shows_in_the_approval_sheet(cast, api):
    text = enriched(cast, ELECTION_TITLE)
    indicators = [dict(row) for row in ENRICHMENT[ELECTION_TITLE]["indicators"]]
    indicators[0]["value"] = "125"
    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=text.version,
        data={"indicators": indicators},
    )

    rows = docx_table_rows(
        api(cast.org_drafter).get(f"/api/v1/texts/{text.pk}/approval-form.docx").content
    )

    assert cells(tables.INDICATORS, {**indicators[0], "weight": "20.00"}) in rows


def test_a_server_without_pango_answers_503_for_a_pdf_and_still_serves_word(
    cast, api, client, election, monkeypatch
):
    import builtins

    real_import = builtins.__import__

    def no_pango(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pango)
    client.force_login(cast.org_drafter)

    pdf = api(cast.org_drafter).get(f"/api/v1/texts/{election.pk}/approval-form.pdf")
    page = client.get(f"/texts/{election.pk}/approval-form.pdf")
    word = api(cast.org_drafter).get(f"/api/v1/texts/{election.pk}/approval-form.docx")

    assert pdf.status_code == 503 and "pango" in pdf.json()["detail"]
    assert page.status_code == 503 and "Word" in page.content.decode()
    assert word.status_code == 200
