"""The diff of two revisions beyond the sections (issue 10): the project data before and
after, and each table row by row (rows aligned by difflib over their cells; inserted, deleted
and changed rows, the changed columns named), in the API and on the diff page."""

import re

from submissions import tables
from submissions.diff import table_diff
from tests.factories import act
from workflow import services

ROW = {
    "level1": "output",
    "level2": "quantity",
    "name": "指导村（社区）完成换届选举",
    "comparison": "=",
    "value": "124",
    "unit": "个",
    "weight": "20.00",
    "term": "annual",
}
SECOND = ROW | {"name": "召开动员大会和培训会议", "comparison": "≥", "value": "4", "unit": "次"}
THIRD = ROW | {"level2": "quality", "name": "换届选举程序合法合规率", "value": "100", "unit": "%"}


def ops_of(old, new):
    return [(op["op"], op["changed"]) for op in table_diff(tables.INDICATORS, old, new)]


def test_unchanged_rows_are_equal():
    assert ops_of([ROW, SECOND], [ROW, SECOND]) == [("equal", []), ("equal", [])]


def test_a_changed_value_is_one_row_replaced_with_its_column_named():
    assert ops_of([ROW, SECOND, THIRD], [ROW, SECOND | {"value": "5"}, THIRD]) == [
        ("equal", []),
        ("replace", ["value"]),
        ("equal", []),
    ]


def test_an_inserted_and_a_deleted_row_are_told_as_such():
    assert ops_of([ROW, SECOND], [ROW, THIRD, SECOND]) == [
        ("equal", []),
        ("insert", []),
        ("equal", []),
    ]
    assert ops_of([ROW, SECOND, THIRD], [ROW, THIRD]) == [
        ("equal", []),
        ("delete", []),
        ("equal", []),
    ]


def test_a_changed_row_beside_an_inserted_one_is_paired_by_its_name():
    found = table_diff(tables.INDICATORS, [ROW], [THIRD, ROW | {"unit": "村"}])

    assert [(op["op"], op["changed"]) for op in found] == [("insert", []), ("replace", ["unit"])]
    assert found[1]["before"]["unit"] == "个" and found[1]["after"]["unit"] == "村"


def returned_and_resubmitted(cast, **first):
    """A text submitted with `first`, returned, changed (one indicator's value, its end date)
    and submitted again: revisions 1 and 2."""
    text = cast.text(indicators=[ROW, SECOND], end_date="2025-12-31", **first)
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "return", comment="请核实指标值")
    text.refresh_from_db(fields=["version"])
    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=text.version,
        data={"indicators": [ROW, SECOND | {"value": "6"}], "end_date": "2026-03-31"},
    )
    act(cast.org_drafter, text, "submit")
    return text


def test_the_api_diff_keeps_its_keys_and_adds_the_fields_and_the_tables(cast, api):
    text = returned_and_resubmitted(cast)

    response = api(cast.org_reviewer).get(f"/api/v1/texts/{text.pk}/revisions/2/diff/?against=1")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"revision", "against", "sections", "fields", "tables"}
    assert not any(section["changed"] for section in body["sections"])
    end = next(item for item in body["fields"] if item["field"] == "end_date")
    assert (end["changed"], end["before"], end["after"]) == (True, "2025-12-31", "2026-03-31")
    assert set(body["tables"]) == set(tables.BY_FIELD)
    changed = body["tables"]["indicators"][1]
    assert changed["op"] == "replace" and changed["changed"] == ["value"]
    assert (changed["before"]["value"], changed["after"]["value"]) == ("4", "6")
    assert body["tables"]["indicators"][0]["op"] == "equal"
    assert body["tables"]["breakdown"] == []


def test_the_diff_page_marks_the_changed_row_and_its_changed_cell(cast, client):
    text = returned_and_resubmitted(cast)
    client.force_login(cast.org_reviewer)

    html = client.get(f"/texts/{text.pk}/diff/").content.decode()

    table = re.search(
        r'<section class="content-table changed" id="diff-indicators".*?</section>', html, re.S
    )
    assert table
    rows = re.findall(r'<tr class="row-([a-z]+)">(.*?)</tr>', table.group(0), re.S)
    assert [op for op, _cells in rows] == ["equal", "replace"]
    marked = re.findall(
        r'<td data-label="([^"]+)" class="cell-changed">(.*?)</td>', rows[1][1], re.S
    )
    assert [label for label, _cell in marked] == ["指标值"]
    assert re.search(r"<del>.*4</del> <ins>.*6</ins>", marked[0][1])
    assert "cell-changed" not in rows[0][1]
    # The project data that changed, before and after.
    project = re.search(
        r'<section class="project-data diff-fields changed".*?</section>', html, re.S
    )
    assert "结束日期" in project.group(0) and "2026-03-31" in project.group(0)


def test_a_table_that_did_not_change_is_collapsed_on_the_diff_page(cast, client):
    text = returned_and_resubmitted(cast, milestones=[{"task": "动员", "due": "2025-09-30"}])
    client.force_login(cast.org_reviewer)

    html = client.get(f"/texts/{text.pk}/diff/").content.decode()

    assert '<details class="content-table unchanged" id="diff-milestones">' in html
    assert 'id="diff-breakdown"' not in html  # empty in both
