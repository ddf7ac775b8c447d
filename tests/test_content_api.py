"""Project data, the cost breakdown, performance targets and milestones through the API:
written, validated, derived, frozen in revisions and audited like the sections."""

from decimal import Decimal

import pytest

from submissions.content import clean_content
from submissions.demo_content import ELECTION_TITLE, ENRICHMENT
from submissions.models import ProjectText
from submissions.tables import TABLES
from tests.factories import act
from workflow.selectors import text_history

ELECTION = ENRICHMENT[ELECTION_TITLE]
# As stored: amounts and weights with two places, choices by code.
STORED = clean_content(ELECTION, partial=True)


def patch(api, user, text, **body):
    current = ProjectText.objects.get(pk=text.pk)
    return api(user).patch(
        f"/api/v1/texts/{text.pk}/", {"version": current.version, **body}, format="json"
    )


def post_text(api, user, **fields):
    from tests.factories import text_fields

    return api(user).post(
        "/api/v1/texts/", {"department": "org", **text_fields(**fields)}, format="json"
    )


def test_a_text_created_with_every_table_reads_back_the_same(cast, api):
    response = post_text(api, cast.org_drafter, **ELECTION)

    assert response.status_code == 201, response.json()
    body = response.json()
    for table in TABLES:
        assert body[table.field] == STORED[table.field], table.field
    assert body["project_code"] == "530427-2025-ZZB-001"
    assert (body["category"], body["novelty"]) == ("specific_purpose", "new")
    assert (body["start_date"], body["end_date"]) == ("2025-09-01", "2026-03-31")
    assert body["for_publication"] is True


def test_rows_are_stored_in_canonical_form(cast, api):
    rows = [{"item": " 培训费 ", "amount": "1,200元", "source": "上级补助"}]

    body = post_text(api, cast.org_drafter, breakdown=rows, amount="1200").json()

    assert body["breakdown"] == [
        {"item": "培训费", "amount": "1200.00", "basis": "", "source": "transfer"}
    ]


def test_the_amount_becomes_the_breakdown_total_when_no_amount_is_given(cast, api):
    text = cast.text()
    rows = [{"item": "培训费", "amount": "1000.50"}, {"item": "资料费", "amount": "200"}]

    response = patch(api, cast.org_drafter, text, breakdown=rows)

    assert response.status_code == 200, response.json()
    assert response.json()["amount"] == "1200.50"


def test_an_amount_given_beside_the_breakdown_is_kept_as_given(cast, api):
    text = cast.text()
    rows = [{"item": "培训费", "amount": "1000.00"}]

    body = patch(api, cast.org_drafter, text, breakdown=rows, amount="900.00").json()

    assert body["amount"] == "900.00"
    assert "breakdown_total" in [check["code"] for check in body["checks"]]


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("breakdown", [{"item": "培训费", "amount": "abc"}], "第 1 行（培训费）“金额（元）”"),
        ("breakdown", [{"item": "", "amount": "10"}], "“支出事项”：必须填写"),
        ("breakdown", [{"item": "x", "amount": "10", "colour": "red"}], "未知列“colour”"),
        ("breakdown", {"item": "x"}, "应为行的列表"),
        (
            "indicators",
            [{"level1": "产出指标", "level2": "社会效益指标", "name": "n"}],
            "不属于一级指标",
        ),
        (
            "indicators",
            [{"level1": "output", "level2": "quantity", "name": "n", "comparison": ">"}],
            "≥",
        ),
        ("milestones", [{"task": "动员", "due": "2025-13-01"}], "应为日期"),
        ("yearly_amounts", [{"year": 1999, "amount": "1"}], "年份"),
        ("category", "special", "specific_purpose"),
        ("start_date", "9/1/2025", "应为日期"),
        ("contact_phone", "call me", "电话号码"),
        ("for_publication", "yes", "true 或 false"),
        ("project_code", "代码 1", "项目编码格式"),
    ],
)
def test_bad_content_is_refused_naming_the_field_and_row_and_changes_nothing(
    cast, api, field, value, named
):
    text = cast.text()
    before = ProjectText.objects.get(pk=text.pk)

    response = patch(api, cast.org_drafter, text, **{field: value})

    assert response.status_code == 400
    assert named in " ".join(response.json()[field])
    after = ProjectText.objects.get(pk=text.pk)
    assert (after.version, getattr(after, field)) == (before.version, getattr(before, field))


def test_a_project_that_ends_before_it_starts_is_refused(cast, api):
    text = cast.text(start_date="2025-09-01")

    response = patch(api, cast.org_drafter, text, end_date="2025-08-31")

    assert response.status_code == 400
    assert "早于开始日期" in response.json()["end_date"][0]


def test_a_project_code_is_unique_within_a_department_and_year(cast, api):
    cast.text(project_code="530427-2025-001")

    again = post_text(api, cast.org_drafter, project_code="530427-2025-001")
    next_year = post_text(api, cast.org_drafter, project_code="530427-2025-001", fiscal_year=2026)

    assert again.status_code == 400
    assert "530427-2025-001" in again.json()["project_code"][0]
    assert next_year.status_code == 201


def test_submit_freezes_the_tables_in_the_revision(cast, api):
    text = cast.text(**ELECTION)
    act(cast.org_drafter, text, "submit")

    revision = api(cast.org_reviewer).get(f"/api/v1/texts/{text.pk}/revisions/").json()[0]

    assert revision["indicators"] == STORED["indicators"]
    assert revision["breakdown"] == STORED["breakdown"]
    assert revision["end_date"] == "2026-03-31"


def test_an_edit_of_one_indicator_is_audited_with_the_table_before_and_after(cast, api):
    text = cast.text(**ELECTION)
    changed = [dict(row) for row in ELECTION["indicators"]]
    changed[0]["value"] = "120"

    patch(api, cast.org_drafter, text, indicators=changed)

    edit = [event for event in text_history(text) if event.action == "edit"][-1]
    before, after = edit.changes["indicators"]
    assert before[0]["value"] == "124" and after[0]["value"] == "120"
    assert set(edit.changes) == {"indicators"}


def test_submit_is_refused_when_the_breakdown_does_not_add_up(cast, api):
    text = cast.text(breakdown=[{"item": "培训费", "amount": "1000.00"}], amount="1751800.00")

    response = api(cast.org_drafter).post(
        f"/api/v1/texts/{text.pk}/actions/submit/", {"version": text.version}, format="json"
    )

    assert response.status_code == 400
    assert "1,000.00" in response.json()["breakdown"][0]
    assert "1,751,800.00" in response.json()["breakdown"][0]
    assert ProjectText.objects.get(pk=text.pk).state == "draft"


def test_submit_with_a_breakdown_that_adds_up_goes_through(cast, api):
    text = cast.text(**ELECTION)

    response = api(cast.org_drafter).post(
        f"/api/v1/texts/{text.pk}/actions/submit/", {"version": text.version}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert Decimal(response.json()["amount"]) == sum(
        Decimal(row["amount"]) for row in ELECTION["breakdown"]
    )


def test_the_text_detail_lists_its_consistency_warnings(cast, api):
    text = cast.text(content="（一）培训\n（二）宣传", plan="（一）培训")

    body = api(cast.org_drafter).get(f"/api/v1/texts/{text.pk}/").json()

    assert body["checks"] == [
        {
            "code": "activity_without_milestone",
            "message": body["checks"][0]["message"],
            "places": ["content", "milestones"],
        }
    ]
    assert "（二）" in body["checks"][0]["message"]
