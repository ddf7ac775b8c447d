"""The two sample texts, enriched with a cost breakdown and performance targets written from
their own prose (`submissions.demo_content`), go the whole way as a county's scripts and
reviewers take them: import → edit → submit → return → change one indicator → the diff
shows that row → approve → the 审批表 (.docx and PDF) and the publication bundle hold every
row, and the exchange workbook's totals equal the amounts.

Everything goes through the HTTP API, as users' scripts do."""

import io
import re
from decimal import Decimal
from typing import Any

import docx
import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from submissions import tables
from submissions.checks import PHONE
from submissions.content import clean_content
from submissions.demo_content import ELECTION_TITLE, ENRICHMENT, PARTY_BUILDING_TITLE
from tests.samples import enriched_sample_docx, enriched_sample_txt

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
STORED = {title: clean_content(values, partial=True) for title, values in ENRICHMENT.items()}
ROWS = ("basis_documents", "breakdown", "yearly_amounts", "indicators", "milestones")


def docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    lines = [paragraph.text for paragraph in document.paragraphs]
    lines += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return re.sub(r"\s+", "", "\n".join(lines))


def pdf_text(content: bytes) -> str:
    pages = PdfReader(io.BytesIO(content)).pages
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in pages))


def row_words(table: tables.Table, row: dict[str, Any]) -> list[str]:
    """What a reader must find of a row in a document: each cell as displayed."""
    words = [tables.display_cell(column, row[column.key]) for column in table.columns]
    return [re.sub(r"\s+", "", word) for word in words if word]


def missing_rows(document: str, content: dict[str, Any], *, redacted: bool = False) -> list:
    """The rows of `content` some cell of which the document lacks."""
    lost = []
    for name in ROWS:
        table = tables.BY_FIELD[name]
        for row in content[name]:
            words = row_words(table, row)
            if redacted:
                words = [word for word in words if not PHONE.search(word)]
            if not all(word in document for word in words):
                lost.append((name, row))
    return lost


def take(api, user, text: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
    """Act on the text; then the whole text as the actor reads it (an action answers with
    the slim text: its state, version and what may be done next)."""
    response = api(user).post(
        f"/api/v1/texts/{text['id']}/actions/{action}/",
        {"version": text["version"], **body},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["version"] > text["version"]
    whole = api(user).get(f"/api/v1/texts/{text['id']}/")
    assert whole.status_code == 200, whole.json()
    return whole.json()


@pytest.fixture(params=["docx", "txt"])
def imported(request, cast, api) -> dict[str, dict[str, Any]]:
    """The enriched sample imported by org's drafter from a .docx (Word tables) or a .txt."""
    if request.param == "docx":
        upload = ("xinping-2025.docx", enriched_sample_docx(), DOCX)
    else:
        upload = ("xinping-2025.txt", enriched_sample_txt(), "text/plain")
    response = api(cast.org_drafter).post(
        "/api/v1/texts/import/", {"file": SimpleUploadedFile(*upload)}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    return {text["title"]: text for text in response.json()["created"]}


def test_the_import_brings_every_row_of_both_texts(imported):
    assert set(imported) == {ELECTION_TITLE, PARTY_BUILDING_TITLE}
    for title, text in imported.items():
        for name in (*ROWS, "target_overall", "target_annual", "project_code", "category"):
            assert text[name] == STORED[title][name], (title, name)
        assert Decimal(text["amount"]) == tables.total(text["breakdown"])


def test_both_sample_texts_go_the_whole_way_and_every_row_reaches_the_documents(
    cast, api, client, imported
):
    approved = {}
    for title, text in imported.items():
        # edit: the drafter corrects the person responsible
        response = api(cast.org_drafter).patch(
            f"/api/v1/texts/{text['id']}/",
            {"version": text["version"], "contact_person": "王芳"},
            format="json",
        )
        assert response.status_code == 200, response.json()
        text = take(api, cast.org_drafter, response.json(), "submit")
        text = take(
            api,
            cast.org_reviewer,
            text,
            "return",
            comment="第一项产出指标的指标值请与实施内容核对。",
            section="content",
        )

        # change one indicator, and only its value
        indicators = [dict(row) for row in text["indicators"]]
        before = dict(indicators[0])
        indicators[0]["value"] = str(int(before["value"]) + 1)
        response = api(cast.org_drafter).patch(
            f"/api/v1/texts/{text['id']}/",
            {"version": text["version"], "indicators": indicators},
            format="json",
        )
        assert response.status_code == 200, response.json()
        text = take(api, cast.org_drafter, response.json(), "submit")

        # the reviewer's diff shows that row, and only that row, changed
        diff = api(cast.org_reviewer).get(f"/api/v1/texts/{text['id']}/revisions/2/diff/?against=1")
        assert diff.status_code == 200
        changed = [op for op in diff.json()["tables"]["indicators"] if op["op"] != "equal"]
        assert changed == [
            {
                "op": "replace",
                "before": before,
                "after": indicators[0],
                "changed": ["value"],
            }
        ]
        client.force_login(cast.org_reviewer)
        page = client.get(f"/texts/{text['id']}/diff/?against=1")
        assert page.status_code == 200
        assert before["name"] in page.content.decode()

        text = take(api, cast.org_reviewer, text, "dept_approve", comment="同意上报")
        text = take(api, cast.finance, text, "finance_approve", comment="资金测算合理")
        text = take(api, cast.approver, text, "approve", comment="同意立项")
        assert text["state"] == "approved"
        approved[title] = text

    for title, text in approved.items():
        for extension, read in (("docx", docx_text), ("pdf", pdf_text)):
            response = api(cast.auditor).get(
                f"/api/v1/texts/{text['id']}/approval-form.{extension}"
            )
            assert response.status_code == 200, (title, extension)
            document = read(response.content)
            assert missing_rows(document, text) == [], (title, extension)
            for opinion in ("同意上报", "资金测算合理", "同意立项"):
                assert opinion in document, (title, extension, opinion)

    for extension, read in (("docx", docx_text), ("pdf", pdf_text)):
        response = api(cast.finance).get(f"/api/v1/publications/org/2025.{extension}")
        assert response.status_code == 200, extension
        bundle = read(response.content)
        for title, text in approved.items():
            assert missing_rows(bundle, text, redacted=True) == [], (title, extension)
            assert text["contact_phone"] not in bundle
        assert "（一）" in bundle and "（二）" in bundle

    response = api(cast.auditor).get("/api/v1/texts/export.xlsx?fiscal_year=2025")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    projects, breakdown, indicators = workbook.worksheets[:3]
    amounts = {
        record["项目编码"]: Decimal(str(record["金额（元）"])) for record in records(projects)
    }
    assert amounts == {text["project_code"]: Decimal(text["amount"]) for text in approved.values()}
    totals, summed = {}, {}
    for record in records(breakdown):
        code, amount = record["项目编码"], Decimal(str(record["金额（元）"]))
        if record["支出事项"] == "合计":
            totals[code] = amount
        else:
            summed[code] = summed.get(code, Decimal(0)) + amount
    assert totals == summed == amounts
    assert len(records(indicators)) == sum(len(text["indicators"]) for text in approved.values())


def records(sheet: Any) -> list[dict[str, Any]]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
