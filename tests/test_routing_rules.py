"""The routing rules of DESIGN.md ("Routing as data"), over HTTP, with the county's document
loaded: parallel desks, a conditional stage, 会签 of two, veto, an unreachable quorum."""

import pytest

from submissions.models import ProjectText
from tests.factories import act, make_text, make_user
from tests.routing import (
    LARGE,
    SMALL,
    at_finance,
    county_people,
    history,
    post_action,
    state_of,
    submitted,
)
from workflow.models import OutboxMessage
from workflow.services import grant_role


@pytest.fixture
def county(cast):
    return county_people(cast)


def through_finance(cast, county, amount: str = LARGE) -> ProjectText:
    text = at_finance(cast, amount)
    act(cast.finance, text, "finance_approve")
    act(county["performance"], text, "finance_approve")
    return ProjectText.objects.get(pk=text.pk)


def test_the_sample_of_1751800_goes_to_the_county_stage(cast, api, county):
    text = through_finance(cast, county, LARGE)

    assert text.state == "county_review"


def test_the_sample_of_1227700_skips_the_county_stage(cast, api, county):
    text = at_finance(cast, SMALL)
    act(cast.finance, text, "finance_approve")

    response = post_action(api, county["performance"], text, "finance_approve")

    assert response.status_code == 200
    assert response.json()["state"] == "approval"


def test_the_approval_that_skips_a_stage_names_it_in_its_event(cast, api, county):
    text = at_finance(cast, SMALL)
    act(cast.finance, text, "finance_approve")
    act(county["performance"], text, "finance_approve")

    [event] = [e for e in history(api, cast.auditor, text) if e["to_state"] == "approval"]

    assert event["detail"]["skipped"] == ["county_review"]


def test_a_stage_with_two_lanes_waits_for_the_second(cast, api, county):
    text = at_finance(cast)

    response = post_action(api, cast.finance, text, "finance_approve")

    assert response.status_code == 200
    assert response.json()["state"] == "finance_review"
    assert response.json()["version"] == text.version


def test_a_stage_with_two_lanes_moves_on_when_both_approve(cast, api, county):
    text = at_finance(cast)
    post_action(api, cast.finance, text, "finance_approve")

    response = post_action(api, county["performance"], text, "finance_approve")

    assert response.json()["state"] == "county_review"


def test_stage_progress_shows_who_approved_in_which_lane(cast, api, county):
    text = at_finance(cast)

    progress = post_action(api, cast.finance, text, "finance_approve").json()["stage_progress"]

    assert progress == {
        "stage": "finance_review",
        "lanes": [
            {"role": "finance_reviewer", "quorum": 1, "approved_by": ["finance"]},
            {"role": "performance_reviewer", "quorum": 1, "approved_by": []},
        ],
        "added_signers": [],
    }


def test_a_quorum_of_two_is_not_met_by_one(cast, api, county):
    text = through_finance(cast, county)

    response = post_action(api, county["county_a"], text, "county_approve")

    assert response.status_code == 200
    assert response.json()["state"] == "county_review"


def test_a_quorum_of_two_is_met_by_two_distinct_people(cast, api, county):
    text = through_finance(cast, county)
    post_action(api, county["county_a"], text, "county_approve")

    response = post_action(api, county["county_b"], text, "county_approve")

    assert response.json()["state"] == "approval"


def test_the_same_person_approving_twice_at_one_stage_is_409(cast, api, county):
    text = through_finance(cast, county)
    post_action(api, county["county_a"], text, "county_approve")

    response = post_action(api, county["county_a"], text, "county_approve")

    assert response.status_code == 409
    progress = api(cast.auditor).get(f"/api/v1/texts/{text.pk}/").json()["stage_progress"]
    assert progress["lanes"][0]["approved_by"] == ["county_a"]


def test_a_return_by_one_member_of_one_lane_ends_the_stage(cast, api, county):
    text = at_finance(cast)
    post_action(api, cast.finance, text, "finance_approve")

    response = post_action(api, county["performance"], text, "return", comment="绩效目标不明确")

    assert response.status_code == 200
    assert response.json()["state"] == "returned"


def test_a_reject_by_one_member_of_a_quorum_stage_ends_it(cast, api, county):
    text = through_finance(cast, county)
    post_action(api, county["county_a"], text, "county_approve")

    response = post_action(api, county["county_b"], text, "reject", comment="不符合规划")

    assert response.json()["state"] == "rejected"


def test_entering_a_stage_whose_quorum_cannot_be_met_is_409_naming_the_lane(cast, api, county):
    county["county_b"].is_active = False
    county["county_b"].save()
    text = at_finance(cast)
    post_action(api, cast.finance, text, "finance_approve")

    response = post_action(api, county["performance"], text, "finance_approve")

    assert response.status_code == 409
    assert "county_reviewer" in response.json()["detail"]


def test_a_refused_entry_changes_nothing(cast, api, county):
    county["county_b"].is_active = False
    county["county_b"].save()
    text = at_finance(cast)
    post_action(api, cast.finance, text, "finance_approve")
    before = ProjectText.objects.get(pk=text.pk)

    post_action(api, county["performance"], text, "finance_approve")

    after = ProjectText.objects.get(pk=text.pk)
    assert (after.state, after.version) == (before.state, before.version)
    progress = api(cast.auditor).get(f"/api/v1/texts/{text.pk}/").json()["stage_progress"]
    assert progress["lanes"][1]["approved_by"] == []


def test_separation_of_duties_counts_when_a_quorum_is_reachable(cast, api, county):
    # county_a drafted the text: only county_b could sign, and the stage needs two.
    grant_role(actor=None, user=county["county_a"], role="drafter", department=cast.org)
    text = make_text(county["county_a"], cast.org, amount=LARGE)
    act(county["county_a"], text, "submit")
    act(cast.org_reviewer, text, "dept_approve")
    act(cast.finance, text, "finance_approve")

    response = post_action(api, county["performance"], text, "finance_approve")

    assert response.status_code == 409
    assert "county_reviewer" in response.json()["detail"]


def test_both_lanes_are_told_when_a_text_enters_their_stage(cast, api, county):
    at_finance(cast)

    outbox = OutboxMessage.objects.filter(kind="dept_approve")

    assert set(outbox.values_list("recipient__username", flat=True)) == {"finance", "performance"}


def test_a_lane_member_whose_lane_is_full_may_not_approve_again_for_it(cast, api, county):
    second_finance = make_user("finance_2", "finance_reviewer")
    text = at_finance(cast)
    post_action(api, cast.finance, text, "finance_approve")

    response = post_action(api, second_finance, text, "finance_approve")

    assert response.status_code == 409
    assert state_of(text) == "finance_review"


def test_a_text_submitted_before_the_document_was_loaded_keeps_the_old_chain(cast, api):
    text = submitted(cast)
    county_people(cast)
    act(cast.org_reviewer, text, "dept_approve")

    response = post_action(api, cast.finance, text, "finance_approve")

    assert response.json()["state"] == "approval"


def test_a_lane_member_who_approved_may_still_return_while_the_stage_is_open(cast, api, county):
    text = at_finance(cast)
    post_action(api, cast.finance, text, "finance_approve")

    response = post_action(api, cast.finance, text, "return", comment="发现新问题")

    assert response.json()["state"] == "returned"
