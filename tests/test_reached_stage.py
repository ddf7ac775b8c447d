"""A text records the furthest review stage it entered (issue 12), so that "has reached the
finance stage" is a column an index serves; the service keeps it, a migration filled it."""

import importlib

import pytest
from django.apps import apps

from submissions.models import ProjectText
from tests.factories import act
from tests.routing import LARGE, SMALL, at_finance, county_people
from workflow.permissions import Authority
from workflow.selectors.texts import text_list

fill = importlib.import_module("workflow.migrations.0017_fill_in_the_stages_texts_reached").fill


def reached(text: ProjectText) -> str:
    return ProjectText.objects.values_list("reached", flat=True).get(pk=text.pk)


def listed(user) -> set[int]:
    return set(text_list(Authority.of(user), {}).values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("draft", ""),
        ("dept_review", "dept_review"),
        ("finance_review", "finance_review"),
        ("approval", "approval"),
        ("returned", "dept_review"),
    ],
)
def test_a_text_records_the_furthest_stage_it_entered(cast, state, expected):
    assert reached(cast.text_in(state)) == expected


def test_being_returned_and_submitted_again_does_not_take_it_back(cast):
    text = cast.text_in("finance_review")
    act(cast.finance, text, "return", comment="测算依据不足")
    act(cast.org_drafter, text, "submit")

    assert (ProjectText.objects.get(pk=text.pk).state, reached(text)) == (
        "dept_review",
        "finance_review",
    )


def test_a_finance_reviewer_still_lists_a_text_it_returned_once_it_is_back_in_dept_review(cast):
    text = cast.text_in("finance_review")
    act(cast.finance, text, "return", comment="测算依据不足")
    act(cast.org_drafter, text, "submit")

    assert text.pk in listed(cast.finance)


def test_an_approver_does_not_list_a_text_that_has_not_reached_approval(cast):
    early = cast.text_in("finance_review")
    due = cast.text_in("approval")

    assert (early.pk in listed(cast.approver), due.pk in listed(cast.approver)) == (False, True)


def test_the_migration_fills_it_from_the_decisions_and_the_stage_waited_at(cast):
    returned_at_finance = cast.text_in("finance_review")
    act(cast.finance, returned_at_finance, "return", comment="测算依据不足")
    waiting = cast.text_in("approval")
    draft = cast.text()
    ProjectText.objects.update(reached="")

    fill(apps, None)

    assert [reached(t) for t in (returned_at_finance, waiting, draft)] == [
        "finance_review",
        "approval",
        "",
    ]


def test_a_county_reviewer_lists_a_text_that_entered_their_stage_not_one_that_skipped_it(cast):
    """A stage with a condition may be skipped: reaching beyond it is not having entered it."""
    county = county_people(cast)
    entered, skipped = at_finance(cast, LARGE), at_finance(cast, SMALL)
    for text in (entered, skipped):
        act(cast.finance, text, "finance_approve")
        act(county["performance"], text, "finance_approve")
    assert ProjectText.objects.get(pk=skipped.pk).state == "approval"

    seen = listed(county["county_a"])

    assert (entered.pk in seen, skipped.pk in seen) == (True, False)


def test_a_county_reviewer_still_lists_a_text_once_it_left_their_stage(cast):
    county = county_people(cast)
    text = at_finance(cast, LARGE)
    act(cast.finance, text, "finance_approve")
    act(county["performance"], text, "finance_approve")
    act(county["county_a"], text, "county_approve")
    act(county["county_b"], text, "county_approve")
    assert ProjectText.objects.get(pk=text.pk).state == "approval"

    assert text.pk in listed(county["county_a"])
