"""A workflow document may require tables before submit (`submit_requires`), for every text
or for the texts of some categories: submit is refused (400) naming each of them."""

import pytest

from submissions.demo_content import ELECTION_TITLE, ENRICHMENT
from tests.routing import load, post_action, state_of
from workflow.definitions import DocumentError, parse
from workflow.machine import catalog

ELECTION = ENRICHMENT[ELECTION_TITLE]
BREAKDOWN = [{"item": "换届", "amount": "1751800.00"}]


@pytest.fixture
def requiring(cast):
    load("performance_targets.yaml")
    return cast


def test_a_specific_purpose_text_without_indicators_is_refused_naming_the_table(requiring, api):
    text = requiring.text(category="specific_purpose", breakdown=BREAKDOWN)

    response = post_action(api, requiring.org_drafter, text, "submit")

    assert response.status_code == 400
    assert set(response.json()) == {"indicators"}
    assert "绩效指标" in response.json()["indicators"][0]
    assert state_of(text) == "draft"


def test_an_other_category_text_needs_no_indicators(requiring, api):
    text = requiring.text(category="other_operating", breakdown=BREAKDOWN)

    assert post_action(api, requiring.org_drafter, text, "submit").status_code == 200


def test_every_missing_or_inconsistent_field_is_named_at_once(requiring, api):
    # no plan, no breakdown, no indicators
    text = requiring.text(category="specific_purpose", plan="", amount="10.00")

    response = post_action(api, requiring.org_drafter, text, "submit")

    assert response.status_code == 400
    assert set(response.json()) == {"plan", "breakdown", "indicators"}


def test_a_text_with_everything_required_is_submitted(requiring, api):
    text = requiring.text(**ELECTION)

    response = post_action(api, requiring.org_drafter, text, "submit")

    assert response.status_code == 200, response.json()
    assert state_of(text) == "dept_review"


def test_the_built_in_workflow_requires_no_table(cast, api):
    text = cast.text(category="specific_purpose")

    assert post_action(api, cast.org_drafter, text, "submit").status_code == 200


def test_the_requirements_are_part_of_the_stored_document(requiring):
    document = catalog().current.definition.as_document()

    assert document["submit_requires"] == [
        {"table": "indicators", "when": {"category": ["specific_purpose"]}},
        {"table": "breakdown"},
    ]


@pytest.mark.parametrize(
    ("requires", "field"),
    [
        ("[{table: pictures}]", "submit_requires[0].table"),
        ("[{table: indicators, when: {category: [special]}}]", "submit_requires[0].when"),
        ("[{table: indicators, when: {amount_at_least: 1}}]", "submit_requires[0].when"),
        ("[{table: indicators, colour: red}]", "submit_requires[0].colour"),
        ("indicators", "submit_requires"),
    ],
)
def test_a_document_with_a_bad_requirement_is_refused_naming_the_field(requires, field):
    source = (
        "code: budget-text\nname: 审批\n"
        f"submit_requires: {requires}\n"
        "stages:\n  - {code: dept_review, name: 部门审核, approve_action: dept_approve,\n"
        "     lanes: [{role: dept_reviewer, quorum: 1}]}\n"
    )

    with pytest.raises(DocumentError) as refused:
        parse(source)

    assert field in refused.value.errors
