"""The structured content on the pages (issue 10): the project data, the tables (资金明细,
分年度资金, 绩效指标, 实施计划, 立项依据文件) edited on the text form with and without script,
shown on the text's page in reading order, the consistency warnings (核对提示) with links to
the places they name, and the audit's readable changes of a table."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from submissions import checks, tables
from submissions.models import ProjectText
from submissions.sections import PROJECT_FIELDS, SECTION_FIELDS
from tests.factories import text_fields
from workflow import services

BREAKDOWN = [
    {"item": "会议费", "amount": "1000000.00", "basis": "", "source": "local"},
    {"item": "培训费", "amount": "751800.00", "basis": "3 期", "source": "transfer"},
]
INDICATOR = {
    "level1": "output",
    "level2": "quantity",
    "name": "指导村（社区）完成换届选举",
    "comparison": "=",
    "value": "124",
    "unit": "个",
    "weight": "20",
    "term": "annual",
}
# One valid row of each table, as a drafter types it.
A_ROW = {
    "basis_documents": {"title": "《中国共产党章程》", "number": "中发〔2018〕34号"},
    "breakdown": {"item": "会议费", "amount": "1,751,800", "basis": "", "source": "local"},
    "yearly_amounts": {"year": "2025", "amount": "175.18万"},
    "indicators": INDICATOR,
    "milestones": {"task": "召开动员大会", "starts": "2025-09-01", "due": "2025-09-30"},
}

# The same rows as the service takes them.
STORED = A_ROW | {
    "breakdown": A_ROW["breakdown"] | {"amount": "1751800.00"},
    "yearly_amounts": {"year": 2025, "amount": "1751800.00"},
}


def cells(field: str, rows: list[dict], start: int = 0) -> dict[str, str]:
    """The form's inputs of a table's rows: breakdown-0-item, ..."""
    return {
        f"{field}-{start + i}-{key}": str(value)
        for i, row in enumerate(rows)
        for key, value in row.items()
    }


def form_of(text: ProjectText, **changes) -> dict[str, str]:
    """What the edit form of `text` sends when nothing is changed, with `changes` applied
    (a table given as a list of rows)."""
    data = {name: getattr(text, name) for name in SECTION_FIELDS}
    data.update(version=text.version, fiscal_year=text.fiscal_year, amount=f"{text.amount:,.2f}")
    for name in PROJECT_FIELDS:
        value = getattr(text, name)
        if name == "for_publication":
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else str(value)
    data.update(target_overall=text.target_overall, target_annual=text.target_annual)
    for table in tables.TABLES:
        rows = changes.pop(table.field, getattr(text, table.field))
        data.update(cells(table.field, rows))
    data.update(changes)
    if data.get("for_publication") is False:
        data.pop("for_publication")
    return {k: v for k, v in data.items() if v is not None}


def edit_page(client, user, text, **changes):
    client.force_login(user)
    return client.post(f"/texts/{text.pk}/edit/", form_of(text, **changes))


def fresh(text: ProjectText) -> ProjectText:
    return ProjectText.objects.get(pk=text.pk)


# --- the edit page ---------------------------------------------------------------------------


@pytest.mark.parametrize("table", tables.TABLES, ids=lambda t: t.field)
def test_the_edit_page_labels_every_cell_of_a_table_by_its_column(cast, client, table):
    text = cast.text(**{table.field: [STORED[table.field]]})
    client.force_login(cast.org_drafter)

    html = client.get(f"/texts/{text.pk}/edit/").content.decode()

    editor = re.search(
        rf'<fieldset class="table-editor[^"]*" id="id_{table.field}".*?</fieldset>', html, re.S
    )
    assert editor, table.field
    for column in table.columns:
        assert (
            f'<th scope="col" class="col-{column.kind} col-{column.key}">{column.label}'
            in editor.group(0)
        )
        # The stored row, and the blank one below it, each with a label for the cell.
        for index in (0, 1):
            assert (
                f'<label class="cell-label" for="id_{table.field}-{index}-{column.key}">'
                in editor.group(0)
            )


@pytest.mark.parametrize("table", tables.TABLES, ids=lambda t: t.field)
def test_a_row_typed_into_each_table_is_saved(cast, client, table):
    text = cast.text()

    response = edit_page(client, cast.org_drafter, text, **{table.field: [A_ROW[table.field]]})

    assert response.status_code == 303, response.content.decode()[:2000]
    saved = getattr(fresh(text), table.field)
    assert len(saved) == 1
    assert saved == tables.clean_rows(table, [STORED[table.field]])


def test_the_project_data_is_saved_from_the_form(cast, client):
    text = cast.text()

    response = edit_page(
        client,
        cast.org_drafter,
        text,
        project_code="530427-2025-ZZB-001",
        category="specific_purpose",
        novelty="new",
        start_date="2025-09-01",
        end_date="2026-03-31",
        contact_person="李明",
        contact_phone="0877-7012345",
        for_publication="on",
        target_overall="按期完成换届。",
    )

    assert response.status_code == 303
    saved = fresh(text)
    assert (saved.category, saved.novelty, str(saved.end_date)) == (
        "specific_purpose",
        "new",
        "2026-03-31",
    )
    assert saved.for_publication is True
    assert saved.target_overall == "按期完成换届。"


def test_a_project_that_ends_before_it_starts_is_refused_on_the_end_date(cast, client):
    text = cast.text()

    response = edit_page(
        client, cast.org_drafter, text, start_date="2025-09-01", end_date="2025-01-01"
    )

    assert response.status_code == 400
    assert 'href="#id_end_date"' in response.content.decode()


def test_rows_left_with_the_amount_untouched_make_the_amount_their_total(cast, client):
    text = cast.text()  # 1,751,800.00

    response = edit_page(
        client, cast.org_drafter, text, breakdown=[{"item": "会议费", "amount": "1000"}]
    )

    assert response.status_code == 303
    assert fresh(text).amount == Decimal("1000.00")


def test_an_amount_the_drafter_changed_is_kept_beside_the_rows(cast, client):
    text = cast.text()

    response = edit_page(
        client,
        cast.org_drafter,
        text,
        amount="2,000",
        breakdown=[{"item": "会议费", "amount": "1000"}],
    )

    assert response.status_code == 303
    assert fresh(text).amount == Decimal("2000.00")


def test_the_running_total_is_shown_beside_the_amount_and_says_when_they_differ(cast, client):
    text = cast.text(amount="2000.00", breakdown=[{"item": "会议费", "amount": "1000"}])
    client.force_login(cast.org_drafter)

    html = client.get(f"/texts/{text.pk}/edit/").content.decode()

    total = re.search(r'<p class="breakdown-total[^"]*".*?</p>', html, re.S).group(0)
    assert "1,000.00元" in total
    assert "differs" in total.split(">")[0]
    assert '<span class="total-differs" data-differs>' in total


def test_a_bad_cell_is_400_named_by_row_and_column_in_the_summary_and_beside_the_table(
    cast, client
):
    text = cast.text()
    rows = [*BREAKDOWN, {"item": "印刷费", "amount": "很多"}]

    response = edit_page(client, cast.org_drafter, text, breakdown=rows)

    assert response.status_code == 400
    html = response.content.decode()
    summary = re.search(r'<div class="error-summary.*?</div>', html, re.S).group(0)
    assert 'href="#id_breakdown"' in summary
    assert "第 3 行（印刷费）“金额（元）”" in summary
    beside = re.search(r'id="error-breakdown">(.*?)</div>', html, re.S).group(1)
    assert "第 3 行（印刷费）" in beside
    # The row itself is marked, with its own message; the typed rows are all still there.
    assert 'id="error-breakdown-2"' in html
    assert 'value="很多"' in html and 'value="培训费"' in html
    assert fresh(text).breakdown == []


def test_a_second_level_indicator_under_the_wrong_first_level_is_refused(cast, client):
    text = cast.text()
    row = INDICATOR | {"level1": "benefit"}

    response = edit_page(client, cast.org_drafter, text, indicators=[row])

    assert response.status_code == 400
    assert "二级指标“数量指标”不属于一级指标“效益指标”" in response.content.decode()


def test_the_second_level_choices_are_grouped_under_their_first_level(cast, client):
    text = cast.text(indicators=[INDICATOR])
    client.force_login(cast.org_drafter)

    html = client.get(f"/texts/{text.pk}/edit/").content.decode()

    select = re.search(r'<select name="indicators-0-level2".*?</select>', html, re.S).group(0)
    assert 'data-follows="id_indicators-0-level1"' in select
    for code, label, subs in tables.INDICATOR_LEVELS:
        group = re.search(
            rf'<optgroup label="{label}" data-parent="{code}">(.*?)</optgroup>', select, re.S
        )
        assert group, code
        assert [value for value, _l in subs] == re.findall(
            r'<option value="([a-z_]+)"', group.group(1)
        )
    assert '<option value="quantity" data-parent="output" selected>' in select


def test_add_row_without_script_answers_the_form_with_a_row_more_and_saves_nothing(cast, client):
    text = cast.text(breakdown=BREAKDOWN)
    data = form_of(text, title="改过的标题") | {"add_row": "breakdown"}
    client.force_login(cast.org_drafter)

    response = client.post(f"/texts/{text.pk}/edit/", data)

    assert response.status_code == 200
    html = response.content.decode()
    # Two rows, the spare one, and the one asked for: four rows, the typed title kept.
    assert 'name="breakdown-3-item"' in html and 'name="breakdown-4-item"' not in html
    assert 'value="改过的标题"' in html
    assert "error-summary" not in html
    assert fresh(text).version == text.version


def test_remove_row_without_script_drops_that_row_and_saves_nothing(cast, client):
    text = cast.text(breakdown=BREAKDOWN)
    data = form_of(text) | {"remove_row": "breakdown-0"}
    client.force_login(cast.org_drafter)

    response = client.post(f"/texts/{text.pk}/edit/", data)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="会议费"' not in html
    assert (
        '<input type="text" name="breakdown-0-item" id="id_breakdown-0-item" value="培训费"' in html
    )
    assert fresh(text).breakdown == tables.clean_rows(tables.BREAKDOWN, BREAKDOWN)


def test_a_new_text_can_be_created_with_its_tables(cast, client):
    client.force_login(cast.org_drafter)
    data = dict(text_fields(amount=""))
    data.update(cells("breakdown", BREAKDOWN), **cells("indicators", [INDICATOR]))

    response = client.post("/texts/new/", data)

    assert response.status_code == 303
    text = ProjectText.objects.get(title=data["title"])
    assert text.amount == Decimal("1751800.00")
    assert [row["item"] for row in text.breakdown] == ["会议费", "培训费"]
    assert text.indicators[0]["level2"] == "quantity"


def test_every_table_on_the_form_works_as_cards_on_a_phone(cast, client):
    client.force_login(cast.org_drafter)

    html = client.get("/texts/new/").content.decode()

    assert 'href="/static/submissions/css/tables.css"' in html
    assert 'src="/static/submissions/js/tables.js"' in html
    inputs = re.findall(r'<(?:input|select|textarea)[^>]* id="(id_[a-z_]+-\d+-[a-z0-9_]+)"', html)
    assert inputs
    for control in inputs:
        assert f'<label class="cell-label" for="{control}">' in html, control
    assert html.count('<table class="editor-table') == len(tables.TABLES)


def test_saving_and_submitting_names_the_required_table_and_the_breakdown_mismatch(cast, client):
    services.load_workflow(actor=None, source=REQUIRING_INDICATORS)
    text = cast.text()

    response = edit_page(
        client,
        cast.org_drafter,
        text,
        amount="2,000,000",
        breakdown=BREAKDOWN,
        then="submit",
    )

    assert response.status_code == 400
    html = response.content.decode()
    summary = re.search(r'<div class="error-summary.*?</div>', html, re.S).group(0)
    assert 'href="#id_indicators"' in summary and "提交前必须填写绩效指标" in summary
    assert 'href="#id_breakdown"' in summary and "资金明细合计 1,751,800.00元" in summary
    refusal = re.search(r'<p class="submit-refusal[^>]*>(.*?)</p>', html, re.S).group(1)
    assert "绩效指标" in refusal and "不一致" in refusal
    assert fresh(text).state == "draft" and fresh(text).amount == Decimal("2000000.00")


REQUIRING_INDICATORS = {
    "code": "budget-text",
    "name": "部门预算项目文本审批",
    "submit_requires": [{"table": "indicators"}],
    "stages": [
        {
            "code": "dept_review",
            "name": "部门审核",
            "approve_action": "dept_approve",
            "lanes": [{"role": "dept_reviewer", "quorum": 1}],
        },
        {
            "code": "finance_review",
            "name": "财政审核",
            "approve_action": "finance_approve",
            "lanes": [{"role": "finance_reviewer", "quorum": 1}],
        },
        {
            "code": "approval",
            "name": "待审批",
            "approve_action": "approve",
            "lanes": [{"role": "approver", "quorum": 1}],
        },
    ],
}


def test_a_stale_save_keeps_the_typed_rows(cast, client):
    text = cast.text()
    services.edit_text(
        actor=cast.org_drafter, text_id=text.pk, version=text.version, data={"plan": "改"}
    )

    response = edit_page(client, cast.org_drafter, text, breakdown=BREAKDOWN)

    assert response.status_code == 409
    assert 'value="培训费"' in response.content.decode()
    assert fresh(text).breakdown == []


# --- the text page -------------------------------------------------------------------------


def enriched(cast, **overrides) -> ProjectText:
    values = {
        "project_code": "530427-2025-ZZB-001",
        "category": "specific_purpose",
        "start_date": "2025-09-01",
        "end_date": "2025-12-31",
        "basis_documents": [A_ROW["basis_documents"]],
        "breakdown": BREAKDOWN,
        "yearly_amounts": [{"year": 2025, "amount": "1751800.00"}],
        "milestones": [A_ROW["milestones"]],
        "indicators": [INDICATOR],
        "target_overall": "按期完成换届。",
    }
    return cast.text(**(values | overrides))


def test_the_text_page_shows_project_data_and_each_table_beside_its_section(cast, client):
    text = enriched(cast)
    client.force_login(cast.org_drafter)

    html = client.get(f"/texts/{text.pk}/").content.decode()

    def at(marker: str) -> int:
        assert marker in html, marker
        return html.index(marker)

    assert at('id="project-data"') < at('id="section-title"')
    assert (
        at('id="section-basis"') < at('id="part-basis_documents"') < at('id="section-implementer"')
    )
    assert at('id="section-funding"') < at('id="part-breakdown"') < at('id="part-yearly_amounts"')
    assert at('id="part-yearly_amounts"') < at('id="section-plan"') < at('id="part-milestones"')
    assert at('id="part-milestones"') < at('id="section-outcomes"') < at('id="part-target_overall"')
    assert at('id="part-target_overall"') < at('id="part-indicators"')
    assert "特定目标类" in html and "530427-2025-ZZB-001" in html
    assert "1,000,000.00" in html and "上级补助" in html and "数量指标" in html


def test_the_tables_on_the_text_page_are_cards_on_a_phone(cast, client):
    text = enriched(cast)
    client.force_login(cast.org_drafter)

    html = client.get(f"/texts/{text.pk}/").content.decode()

    for table in tables.TABLES:
        shown = re.search(
            rf'<table class="table table-sm cards data-table table-{table.field}">.*?</table>',
            html,
            re.S,
        )
        assert shown, table.field
        cells_shown = re.findall(r"<td ([^>]*)>", shown.group(0))
        assert cells_shown
        labels = {re.search(r'data-label="([^"]*)"', c).group(1) for c in cells_shown}
        assert labels == {str(column.label) for column in table.columns}


def test_the_text_page_costs_the_same_with_one_row_as_with_a_hundred(cast, client):
    few = enriched(cast, title="少")
    many = enriched(
        cast,
        title="多",
        project_code="530427-2025-ZZB-002",
        amount="100.00",
        breakdown=[{"item": f"事项{i}", "amount": "1"} for i in range(100)],
        indicators=[INDICATOR | {"name": f"指标{i}"} for i in range(100)],
    )
    client.force_login(cast.org_drafter)
    client.get(f"/texts/{few.pk}/")

    def count(text) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/texts/{text.pk}/").status_code == 200
        return len(captured.captured_queries)

    assert count(few) == count(many)


# --- 核对提示 ---------------------------------------------------------------------------------

# For each check: what makes a text trigger it, and a text alike that does not.
TRIGGERS = {
    "breakdown_total": (
        {"amount": "2000000.00", "funding": "安排2,000,000.00元。", "breakdown": BREAKDOWN},
        {"breakdown": BREAKDOWN},
    ),
    "yearly_amount": (
        {"yearly_amounts": [{"year": 2025, "amount": "1000000.00"}]},
        {"yearly_amounts": [{"year": 2025, "amount": "1751800.00"}]},
    ),
    "funding_prose_amount": (
        {"funding": "安排1,500,000.00元，主要用于换届工作。"},
        {"funding": "安排1,751,800.00元，主要用于换届工作。"},
    ),
    "stray_year": (
        {"overview": "沿用2024年拍摄的宣传片。"},
        {"overview": "2025年拍摄宣传片。"},
    ),
    "activity_without_milestone": (
        {"content": "（一）换届选举工作\n（二）村干部培训", "plan": "（一）换届选举工作"},
        {
            "content": "（一）换届选举工作\n（二）村干部培训",
            "plan": "（一）换届选举工作",
            "milestones": [{"task": "村干部培训", "due": "2025-10-31"}],
        },
    ),
    "indicator_incomplete": (
        {"indicators": [INDICATOR | {"unit": ""}]},
        {"indicators": [INDICATOR]},
    ),
    "phone_in_public_text": (
        {"for_publication": True, "implementer": "组织部，联系电话 13800000000。"},
        {"for_publication": False, "implementer": "组织部，联系电话 13800000000。"},
    ),
}


def test_every_check_has_a_trigger_here():
    assert tuple(TRIGGERS) == checks.CODES


def page_of_reviewer(cast, client, code: str, values: dict) -> str:
    """The department reviewer's page of a submitted text with `values`. A breakdown that does
    not add up cannot be submitted (content.check_for_submit), so that one is seen on the
    drafter's page of the draft, before submitting."""
    if code == "breakdown_total":
        text = cast.text(**values)
        client.force_login(cast.org_drafter)
    else:
        text = cast.text_in("dept_review", **values)
        client.force_login(cast.org_reviewer)
    return client.get(f"/texts/{text.pk}/").content.decode()


def warnings_in(html: str) -> list[str]:
    return re.findall(r'<li class="check" data-code="([a-z_]+)">', html)


@pytest.mark.parametrize("code", checks.CODES)
def test_a_text_that_triggers_a_check_shows_its_warning_before_the_decision(cast, client, code):
    html = page_of_reviewer(cast, client, code, TRIGGERS[code][0])

    assert warnings_in(html) == [code]
    assert html.index('id="checks"') < html.index('id="decide"')


@pytest.mark.parametrize("code", checks.CODES)
def test_a_text_alike_that_does_not_trigger_the_check_shows_no_warning(cast, client, code):
    html = page_of_reviewer(cast, client, code, TRIGGERS[code][1])

    assert warnings_in(html) == []
    assert 'id="checks"' not in html


@pytest.mark.parametrize("code", checks.CODES)
def test_a_warning_links_to_each_place_it_names(cast, client, code):
    html = page_of_reviewer(cast, client, code, TRIGGERS[code][0])

    panel = re.search(r'<section class="checks".*?</section>', html, re.S).group(0)
    links = re.findall(r'<a href="#([a-z_-]+)">', panel)
    assert links
    for anchor in links:
        assert f'id="{anchor}"' in html, anchor


def test_the_edit_page_shows_the_warnings_linked_to_the_fields(cast, client):
    text = cast.text(**TRIGGERS["indicator_incomplete"][0])
    client.force_login(cast.org_drafter)

    html = client.get(f"/texts/{text.pk}/edit/").content.decode()

    assert warnings_in(html) == ["indicator_incomplete"]
    assert '<a href="#id_indicators">' in html and 'id="id_indicators"' in html


# --- the audit's readable changes --------------------------------------------------------------


def test_the_audit_page_shows_a_changed_row_with_the_columns_labels(cast, client):
    text = cast.text(indicators=[INDICATOR])
    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=text.version,
        data={"indicators": [INDICATOR | {"value": "120"}], "end_date": "2025-12-31"},
    )
    client.force_login(cast.auditor)

    html = client.get(f"/audit/texts/{text.pk}/").content.decode()

    change = re.search(r'<li class="change" data-field="indicators">(.*?)</li>\s*</ul>', html, re.S)
    assert change
    assert "第 1 行（指导村（社区）完成换届选举）：指标值 124 → 120" in change.group(1)
    end = re.search(r'<li class="change" data-field="end_date">(.*?)</li>', html, re.S).group(1)
    assert "2025-12-31" in end


def test_the_audit_page_names_rows_added_and_removed(cast, client):
    text = cast.text(breakdown=BREAKDOWN)
    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=text.version,
        data={"breakdown": [BREAKDOWN[1], {"item": "印刷费", "amount": "1000000"}]},
    )
    client.force_login(cast.auditor)

    html = client.get(f"/audit/texts/{text.pk}/").content.decode()

    assert "删除第 1 行（会议费）" in html
    assert (
        "新增第 2 行（印刷费）：支出事项 印刷费，金额（元） 1,000,000.00，资金来源 本级财政" in html
    )


def test_the_csv_writes_a_table_change_row_by_row(cast, client):
    text = cast.text(indicators=[INDICATOR])
    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=text.version,
        data={"indicators": [INDICATOR | {"value": "120"}], "for_publication": True},
    )
    client.force_login(cast.auditor)

    raw = b"".join(client.get("/audit/export.csv", {"action": "edit"}).streaming_content)

    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    changes = rows[1][rows[0].index("变更字段")]
    assert "绩效指标：第 1 行（指导村（社区）完成换届选举）：指标值 124 → 120" in changes
    assert "拟公开：否 → 是" in changes


@pytest.mark.parametrize(
    "value",
    [None, True, [], ["不是一行"], [{"item": "x", "amount": "不是金额"}], {"a": 1}, 3],
)
def test_no_stored_value_of_a_table_makes_the_audit_page_fail(value):
    from workflow.selectors.audit import field_changes

    found = field_changes({"breakdown": [value, [BREAKDOWN[0]]], "start_date": [None, value]})

    assert {change.field for change in found} == {"start_date", "breakdown"}
    assert all(isinstance(change.before, str) and change.after for change in found)


def test_the_content_pages_are_complete_in_english(cast, client):
    from django.conf import settings

    rows = {
        "basis_documents": [{"title": "Road Law", "number": "No 3"}],
        "breakdown": [{"item": "Asphalt", "amount": "900.00", "source": "transfer"}],
        "yearly_amounts": [{"year": 2025, "amount": "500.00"}],
        "indicators": [INDICATOR | {"name": "Roads fixed", "unit": ""}],
        "milestones": [{"task": "Survey", "due": "2025-05-01"}],
    }
    english = {name: "Text" for name in SECTION_FIELDS} | {
        "funding": "1,000.00 in all",
        "amount": "1000.00",
        "category": "specific_purpose",
        "for_publication": True,
    }
    text = cast.text(**english, **rows)
    client.force_login(cast.org_drafter)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    cjk = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")

    for path in (f"/texts/{text.pk}/", f"/texts/{text.pk}/edit/"):
        html = client.get(path).content.decode().replace("简体中文", "")
        # The department's name is the user's own words.
        html = html.replace(cast.org.name, "")
        assert cjk.findall(html) == [], path


def test_the_first_submit_button_of_the_form_saves_so_that_enter_never_removes_a_row(cast, client):
    text = cast.text(basis_documents=[STORED["basis_documents"]])
    client.force_login(cast.org_drafter)

    html = client.get(f"/texts/{text.pk}/edit/").content.decode()

    form = html[html.index('<form method="post" class="text-form"') :]
    first = re.search(r"<button [^>]*>", form).group(0)
    assert 'name="' not in first and 'type="submit"' in first
