"""The workflow over HTTP (DESIGN.md, "HTTP API" and "The state machine"), as the demo's
people use it: every action, every refusal, the lists, the history, import and export, and
the auditors' API. Setup moves texts along through the real service (tests.factories.act);
the behaviour under test is always one HTTP request."""

import csv
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from submissions.importer import SECTIONS, parse_texts
from submissions.models import ProjectText, Revision
from tests.factories import PASSWORD, act, make_text, make_user, text_fields
from workflow import services
from workflow.models import AuditEvent
from workflow.states import Role, State

API = "/api/v1"
SAMPLE = Path(__file__).resolve().parents[2] / "shared/data/xinping-2025-org-dept-project-texts.txt"
SECTION_NAMES = [name for name, _label in SECTIONS]
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")
HISTORY_KEYS = {
    "id",
    "at",
    "actor",
    "action",
    "outcome",
    "from_state",
    "to_state",
    "revision",
    "comment",
    "changes",
}
REASON = "资金测算依据不足，请补充说明。"


# --- helpers ---------------------------------------------------------------------------------


def url(text, suffix: str = "") -> str:
    pk = getattr(text, "pk", text)
    return f"{API}/texts/{pk}/{suffix}"


def fresh(text) -> ProjectText:
    return ProjectText.objects.get(pk=getattr(text, "pk", text))


@pytest.fixture
def superuser(cast):
    """A superuser who was also given every workflow role (三员分立, issue 11: the flag alone
    grants none), to show that separation of duties binds superusers like anyone else."""
    user = make_user("root", Role.DRAFTER, cast.org, is_superuser=True, is_staff=True)
    services.grant_role(actor=None, user=user, role=Role.DEPT_REVIEWER, department=cast.org)
    for role in (Role.FINANCE_REVIEWER, Role.APPROVER):
        services.grant_role(actor=None, user=user, role=role)
    return user


def snapshot(text) -> tuple:
    """What a refused request must leave untouched, re-read from the database."""
    current = fresh(text)
    content = tuple(getattr(current, name) for name in (*SECTION_NAMES, "amount"))
    return current.state, current.version, current.revision, content


def post_action(api, user, text, action: str, version: int | None = None, **body):
    if version is None:
        version = fresh(text).version
    return api(user).post(
        url(text, f"actions/{action}/"), {"version": version, **body}, format="json"
    )


def history(api, user, text) -> list[dict]:
    response = api(user).get(url(text, "history/"), {"page_size": 500})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def refusals(api, cast, text) -> list[dict]:
    """The refused attempts an auditor sees in the text's history."""
    return [event for event in history(api, cast.auditor, text) if event["outcome"] == "refused"]


def assert_new_refusal(api, cast, text, before: list[dict], user, action: str) -> None:
    after = refusals(api, cast, text)
    assert len(after) == len(before) + 1, after
    event = after[-1]
    assert (event["actor"], event["action"], event["outcome"]) == (
        user.username,
        action,
        "refused",
    )


def to_stage(cast, text, stage: State):
    """Move a draft of org along the happy path until it sits in `stage`."""
    steps = {
        State.DRAFT: (cast.org_drafter, "submit"),
        State.DEPT_REVIEW: (cast.org_reviewer, "dept_approve"),
        State.FINANCE_REVIEW: (cast.finance, "finance_approve"),
        State.APPROVAL: (cast.approver, "approve"),
    }
    while fresh(text).state != stage:
        user, action = steps[fresh(text).state]
        act(user, text, action)
    assert fresh(text).state == stage
    return fresh(text)


def text_at(cast, stage: State):
    return to_stage(cast, cast.text(), stage)


STAGE_REVIEWER = {
    State.DEPT_REVIEW: ("org_reviewer", "dept_approve"),
    State.FINANCE_REVIEW: ("finance", "finance_approve"),
    State.APPROVAL: ("approver", "approve"),
}


def returned_text(cast):
    text = text_at(cast, State.DEPT_REVIEW)
    act(cast.org_reviewer, text, "return", comment=REASON, section="funding")
    return fresh(text)


NEW_FUNDING = "安排1,800,000.00元，主要用于换届工作。"


def resubmitted_text(cast):
    """Returned at dept_review over its funding, revised (amount and funding), resubmitted."""
    text = returned_text(cast)
    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=fresh(text).version,
        data={"amount": "1800000.00", "funding": NEW_FUNDING},
    )
    act(cast.org_drafter, text, "submit")
    return fresh(text)


def both_drafter_and_reviewer(cast):
    user = make_user("org_both", Role.DRAFTER, cast.org)
    services.grant_role(actor=None, user=user, role=Role.DEPT_REVIEWER, department=cast.org)
    return user


# --- the happy path --------------------------------------------------------------------------


def test_a_text_created_over_http_goes_through_every_stage_to_approved(api, cast):
    created = api(cast.org_drafter).post(
        f"{API}/texts/", {**text_fields(), "department": "org"}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["state"], body["version"], body["revision"]) == ("draft", 1, 0)
    assert body["available_actions"] == ["submit"]
    pk = body["id"]

    steps = [
        (cast.org_drafter, "submit", "dept_review", ["withdraw"]),
        (cast.org_reviewer, "dept_approve", "finance_review", []),
        (cast.finance, "finance_approve", "approval", []),
        (cast.approver, "approve", "approved", []),
    ]
    version = 1
    for user, action, state, offered_after in steps:
        seen = api(user).get(url(pk)).json()
        assert action in seen["available_actions"], (user.username, seen)
        response = post_action(api, user, pk, action, version=version)
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["id"], body["state"], body["version"], body["revision"]) == (
            pk,
            state,
            version + 1,
            1,
        ), action
        assert body["available_actions"] == offered_after, action
        version += 1

    text = fresh(pk)
    assert (text.state, text.version, text.revision) == ("approved", 5, 1)


def test_the_approved_text_keeps_revision_1_exactly_as_submitted(api, cast):
    text = text_at(cast, State.APPROVED)

    revisions = api(cast.org_drafter).get(url(text, "revisions/")).json()

    assert [r["number"] for r in revisions] == [1]
    (first,) = revisions
    expected = text_fields()
    for name in (*SECTION_NAMES, "fiscal_year"):
        assert first[name] == expected[name], name
    assert first["amount"] == "1751800.00"
    assert first["submitted_by"] == "org_drafter"
    assert [(d["stage"], d["action"], d["actor"]) for d in first["decisions"]] == [
        ("dept_review", "dept_approve", "org_reviewer"),
        ("finance_review", "finance_approve", "finance"),
        ("approval", "approve", "approver"),
    ]


def test_the_approved_text_is_frozen_for_editing(api, cast):
    text = text_at(cast, State.APPROVED)
    before = snapshot(text)

    response = api(cast.org_drafter).patch(
        url(text), {"version": fresh(text).version, "title": "改过的名称"}, format="json"
    )

    assert response.status_code == 409
    assert snapshot(text) == before


# --- the return path -------------------------------------------------------------------------


def test_returning_answers_the_text_in_state_returned(api, cast):
    text = text_at(cast, State.DEPT_REVIEW)

    response = post_action(
        api, cast.org_reviewer, text, "return", comment=REASON, section="funding"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["version"], body["revision"]) == ("returned", 3, 1)
    assert body["available_actions"] == []
    assert fresh(text).state == State.RETURNED


def test_the_drafter_sees_the_return_reason_among_the_revisions_decisions(api, cast):
    text = returned_text(cast)

    response = api(cast.org_drafter).get(url(text, "revisions/"))

    assert response.status_code == 200
    (decision,) = response.json()[0]["decisions"]
    assert {k: decision[k] for k in ("stage", "action", "actor", "comment", "section")} == {
        "stage": "dept_review",
        "action": "return",
        "actor": "org_reviewer",
        "comment": REASON,
        "section": "funding",
    }


def test_the_drafter_sees_the_return_reason_in_the_history(api, cast):
    text = returned_text(cast)

    events = history(api, cast.org_drafter, text)

    (event,) = [e for e in events if e["action"] == "return"]
    assert event["comment"] == REASON
    assert (event["actor"], event["outcome"]) == ("org_reviewer", "ok")
    assert (event["from_state"], event["to_state"], event["revision"]) == (
        "dept_review",
        "returned",
        1,
    )


def test_the_drafter_edits_a_returned_text_with_its_version(api, cast):
    text = returned_text(cast)

    response = api(cast.org_drafter).patch(
        url(text),
        {"version": 3, "amount": "1800000.00", "funding": NEW_FUNDING},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["version"], body["amount"], body["funding"]) == (
        "returned",
        4,
        "1800000.00",
        NEW_FUNDING,
    )
    assert body["available_actions"] == ["submit"]


def test_resubmitting_freezes_revision_2_and_leaves_revision_1_untouched(api, cast):
    text = returned_text(cast)
    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=3,
        data={"amount": "1800000.00", "funding": NEW_FUNDING},
    )

    response = post_action(api, cast.org_drafter, text, "submit", version=4)

    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["revision"]) == ("dept_review", 2)
    revisions = api(cast.org_reviewer).get(url(text, "revisions/")).json()
    assert [(r["number"], r["amount"], r["funding"]) for r in revisions] == [
        (1, "1751800.00", text_fields()["funding"]),
        (2, "1800000.00", NEW_FUNDING),
    ]


def test_the_diff_of_revision_2_against_1_shows_exactly_the_funding_change(api, cast):
    text = resubmitted_text(cast)

    response = api(cast.org_reviewer).get(url(text, "revisions/2/diff/"), {"against": 1})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["revision"], body["against"]) == (2, 1)
    changed = {s["field"]: s for s in body["sections"] if s["changed"]}
    assert set(changed) == {"amount", "funding"}
    assert (changed["amount"]["before"], changed["amount"]["after"]) == (
        "1751800.00",
        "1800000.00",
    )
    funding = changed["funding"]
    old_funding = text_fields()["funding"]
    assert (funding["before"], funding["after"]) == (old_funding, NEW_FUNDING)
    ops = funding["ops"]
    assert "".join(t for tag, t in ops if tag != "insert") == old_funding
    assert "".join(t for tag, t in ops if tag != "delete") == NEW_FUNDING
    # Character level: the unchanged words around the figure stay "equal", and only
    # characters of the figure itself are deleted or inserted.
    assert ops[0][0] == "equal" and ops[0][1].startswith("安排1,")
    assert ops[-1][0] == "equal" and ops[-1][1].endswith(".00元，主要用于换届工作。")
    for tag, fragment in ops:
        if tag != "equal":
            assert set(fragment) <= set("0123456789,."), ops
    unchanged = [s for s in body["sections"] if not s["changed"]]
    assert all(s["ops"] == [["equal", s["after"]]] for s in unchanged)


def test_the_resubmitted_revision_goes_on_to_approval(api, cast):
    text = resubmitted_text(cast)

    for user, action in [
        (cast.org_reviewer, "dept_approve"),
        (cast.finance, "finance_approve"),
        (cast.approver, "approve"),
    ]:
        response = post_action(api, user, text, action)
        assert response.status_code == 200, (action, response.content)

    current = fresh(text)
    assert (current.state, current.revision, current.amount) == ("approved", 2, 1800000)


# --- reject ----------------------------------------------------------------------------------

REVIEW_STAGES = [State.DEPT_REVIEW, State.FINANCE_REVIEW, State.APPROVAL]


@pytest.mark.parametrize("stage", REVIEW_STAGES)
def test_the_stage_reviewer_rejects_with_a_reason(api, cast, stage):
    text = text_at(cast, stage)
    reviewer = getattr(cast, STAGE_REVIEWER[stage][0])
    version = fresh(text).version

    response = post_action(api, reviewer, text, "reject", comment="不符合立项条件。")

    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["version"]) == ("rejected", version + 1)
    assert response.json()["available_actions"] == []
    assert fresh(text).state == State.REJECTED


@pytest.mark.parametrize("stage", REVIEW_STAGES)
def test_a_rejected_text_is_final(api, cast, stage):
    text = text_at(cast, stage)
    reviewer = getattr(cast, STAGE_REVIEWER[stage][0])
    act(reviewer, text, "reject", comment="不符合立项条件。")
    before = snapshot(text)

    attempts = [
        (cast.org_drafter, "submit", {}),
        (cast.org_drafter, "withdraw", {}),
        (reviewer, STAGE_REVIEWER[stage][1], {}),
        (reviewer, "return", {"comment": "再看看"}),
        (reviewer, "reject", {"comment": "再拒一次"}),
    ]
    for user, action, body in attempts:
        response = post_action(api, user, text, action, **body)
        assert response.status_code == 409, (user.username, action, response.content)
    patch = api(cast.org_drafter).patch(
        url(text), {"version": before[1], "title": "改名"}, format="json"
    )
    assert patch.status_code == 409
    assert snapshot(text) == before


# --- withdraw --------------------------------------------------------------------------------


def test_the_submitter_withdraws_before_review(api, cast):
    text = text_at(cast, State.DEPT_REVIEW)

    response = post_action(api, cast.org_drafter, text, "withdraw")

    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["version"]) == ("draft", 3)
    assert response.json()["available_actions"] == ["submit"]
    assert fresh(text).state == State.DRAFT


@pytest.mark.parametrize("who", ["org_reviewer", "co_drafter", "superuser"])
def test_nobody_but_the_submitter_may_withdraw(api, cast, who, request):
    user = make_user("co_drafter", Role.DRAFTER, cast.org) if who == "co_drafter" else None
    if who == "superuser":
        user = request.getfixturevalue("superuser")
    user = user or getattr(cast, who)
    text = text_at(cast, State.DEPT_REVIEW)
    before, refused = snapshot(text), refusals(api, cast, text)

    response = post_action(api, user, text, "withdraw")

    assert response.status_code == 403, response.content
    assert snapshot(text) == before
    assert_new_refusal(api, cast, text, refused, user, "withdraw")


def test_withdrawing_after_dept_approval_is_refused(api, cast):
    text = text_at(cast, State.FINANCE_REVIEW)
    before, refused = snapshot(text), refusals(api, cast, text)

    response = post_action(api, cast.org_drafter, text, "withdraw")

    assert response.status_code == 409, response.content
    assert snapshot(text) == before
    assert_new_refusal(api, cast, text, refused, cast.org_drafter, "withdraw")


# --- refusals: roles -------------------------------------------------------------------------


def test_a_drafter_cannot_dept_approve(api, cast):
    text = text_at(cast, State.DEPT_REVIEW)
    before, refused = snapshot(text), refusals(api, cast, text)

    response = post_action(api, cast.org_drafter, text, "dept_approve")

    assert response.status_code == 403, response.content
    assert snapshot(text) == before
    assert_new_refusal(api, cast, text, refused, cast.org_drafter, "dept_approve")


AUDITOR_ATTEMPTS = [
    (State.DRAFT, "submit"),
    (State.DEPT_REVIEW, "withdraw"),
    (State.DEPT_REVIEW, "dept_approve"),
    (State.DEPT_REVIEW, "return"),
    (State.DEPT_REVIEW, "reject"),
    (State.FINANCE_REVIEW, "finance_approve"),
    (State.FINANCE_REVIEW, "return"),
    (State.APPROVAL, "approve"),
    (State.APPROVAL, "reject"),
]


@pytest.mark.parametrize(("stage", "action"), AUDITOR_ATTEMPTS)
def test_an_auditor_can_take_no_action(api, cast, stage, action):
    text = to_stage(cast, cast.text(), stage)
    before, refused = snapshot(text), refusals(api, cast, text)

    response = post_action(api, cast.auditor, text, action, comment="审计人试图操作")

    assert response.status_code == 403, response.content
    assert snapshot(text) == before
    assert_new_refusal(api, cast, text, refused, cast.auditor, action)


@pytest.mark.parametrize("stage", [State.DRAFT, *REVIEW_STAGES, State.APPROVED])
def test_an_auditor_reads_a_text_and_is_offered_no_action(api, cast, stage):
    text = to_stage(cast, cast.text(), stage)

    response = api(cast.auditor).get(url(text))

    assert response.status_code == 200
    assert response.json()["state"] == stage
    assert response.json()["available_actions"] == []


@pytest.mark.parametrize("who", ["edu_reviewer", "edu_drafter"])
@pytest.mark.parametrize(
    "path", ["", "history/", "revisions/", "revisions/1/diff/?against=1", "export.docx"]
)
def test_another_departments_user_cannot_see_an_org_text(api, cast, who, path):
    text = text_at(cast, State.DEPT_REVIEW)

    response = api(getattr(cast, who)).get(url(text, path))

    assert response.status_code == 404


@pytest.mark.parametrize("who", ["edu_reviewer", "edu_drafter"])
@pytest.mark.parametrize("action", ["dept_approve", "return", "reject", "withdraw"])
def test_another_departments_user_acting_on_an_org_text_gets_404(api, cast, who, action):
    text = text_at(cast, State.DEPT_REVIEW)
    before = snapshot(text)

    response = post_action(api, getattr(cast, who), text, action, comment="理由")

    assert response.status_code == 404, response.content
    assert snapshot(text) == before


@pytest.mark.parametrize("who", ["edu_reviewer", "edu_drafter"])
def test_another_departments_user_cannot_edit_an_org_text(api, cast, who):
    text = cast.text()
    before = snapshot(text)

    response = api(getattr(cast, who)).patch(
        url(text), {"version": 1, "title": "改名"}, format="json"
    )

    assert response.status_code == 404
    assert snapshot(text) == before


@pytest.mark.parametrize("who", ["edu_reviewer", "edu_drafter"])
def test_another_departments_texts_are_not_listed(api, cast, who):
    text_at(cast, State.DEPT_REVIEW)

    body = api(getattr(cast, who)).get(f"{API}/texts/").json()

    assert (body["count"], body["results"]) == (0, [])


@pytest.mark.parametrize(
    ("who", "hidden_in", "seen_from"),
    [
        ("finance", [State.DRAFT, State.DEPT_REVIEW], State.FINANCE_REVIEW),
        ("approver", [State.DRAFT, State.DEPT_REVIEW, State.FINANCE_REVIEW], State.APPROVAL),
    ],
)
def test_finance_and_approver_see_a_text_only_once_it_reaches_their_stage(
    api, cast, who, hidden_in, seen_from
):
    user = getattr(cast, who)
    text = cast.text()
    for stage in hidden_in:
        to_stage(cast, text, stage)
        assert api(user).get(url(text)).status_code == 404, stage
        assert api(user).get(f"{API}/texts/").json()["count"] == 0, stage

    to_stage(cast, text, seen_from)

    response = api(user).get(url(text))
    assert response.status_code == 200
    assert response.json()["state"] == seen_from
    assert [t["id"] for t in api(user).get(f"{API}/texts/").json()["results"]] == [text.pk]


def test_finance_cannot_act_on_a_text_it_cannot_see_yet(api, cast):
    text = text_at(cast, State.DEPT_REVIEW)
    before = snapshot(text)

    response = post_action(api, cast.finance, text, "return", comment="越级退回")

    assert response.status_code == 404
    assert snapshot(text) == before


# --- refusals: separation of duties ----------------------------------------------------------


def test_a_drafter_reviewer_cannot_dept_approve_what_they_submitted(api, cast):
    both = both_drafter_and_reviewer(cast)
    text = make_text(both, cast.org)
    act(both, text, "submit")
    before, refused = snapshot(text), refusals(api, cast, text)

    response = post_action(api, both, text, "dept_approve")

    assert response.status_code == 403, response.content
    assert snapshot(text) == before
    assert_new_refusal(api, cast, text, refused, both, "dept_approve")


def test_a_reviewer_who_edited_the_text_cannot_review_it(api, cast):
    both = both_drafter_and_reviewer(cast)
    text = cast.text()
    services.edit_text(actor=both, text_id=text.pk, version=1, data={"plan": "调整后的计划。"})
    act(cast.org_drafter, text, "submit")
    before = snapshot(text)

    response = post_action(api, both, text, "dept_approve")

    assert response.status_code == 403, response.content
    assert snapshot(text) == before
    assert "dept_approve" not in api(both).get(url(text)).json()["available_actions"]


def test_the_superuser_cannot_dept_approve_a_text_they_created_and_submitted(api, cast, superuser):
    root = api(superuser)
    created = root.post(f"{API}/texts/", {**text_fields(), "department": "org"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    submitted = post_action(api, superuser, pk, "submit", version=1)
    assert submitted.status_code == 200, submitted.content
    assert "dept_approve" not in submitted.json()["available_actions"]
    before, refused = snapshot(pk), refusals(api, cast, pk)

    response = post_action(api, superuser, pk, "dept_approve")

    assert response.status_code == 403, response.content
    assert snapshot(pk) == before
    assert_new_refusal(api, cast, pk, refused, superuser, "dept_approve")


def test_the_superuser_cannot_approve_one_revision_at_two_stages(api, cast, superuser):
    text = text_at(cast, State.DEPT_REVIEW)
    approved = post_action(api, superuser, text, "dept_approve")
    assert approved.status_code == 200, approved.content
    assert "finance_approve" not in approved.json()["available_actions"]
    before, refused = snapshot(text), refusals(api, cast, text)

    response = post_action(api, superuser, text, "finance_approve")

    assert response.status_code == 403, response.content
    assert snapshot(text) == before
    assert_new_refusal(api, cast, text, refused, superuser, "finance_approve")


# --- refusals: state and version -------------------------------------------------------------


@pytest.mark.parametrize("action", ["finance_approve", "approve"])
def test_a_stage_cannot_be_skipped(api, cast, action):
    text = text_at(cast, State.DEPT_REVIEW)
    before, refused = snapshot(text), refusals(api, cast, text)

    response = post_action(api, cast.org_reviewer, text, action)

    assert response.status_code == 409, response.content
    assert snapshot(text) == before
    assert_new_refusal(api, cast, text, refused, cast.org_reviewer, action)


def _rejected(cast):
    text = text_at(cast, State.DEPT_REVIEW)
    act(cast.org_reviewer, text, "reject", comment="不予立项。")
    return fresh(text)


@pytest.mark.parametrize("final", ["approved", "rejected"])
@pytest.mark.parametrize(
    ("who", "action"),
    [
        ("org_drafter", "submit"),
        ("org_drafter", "withdraw"),
        ("org_reviewer", "dept_approve"),
        ("org_reviewer", "return"),
        ("org_reviewer", "reject"),
    ],
)
def test_no_action_is_taken_on_a_final_text(api, cast, final, who, action):
    text = text_at(cast, State.APPROVED) if final == "approved" else _rejected(cast)
    user = getattr(cast, who)
    before, refused = snapshot(text), refusals(api, cast, text)

    response = post_action(api, user, text, action, comment="理由")

    assert response.status_code == 409, response.content
    assert snapshot(text) == before
    assert_new_refusal(api, cast, text, refused, user, action)


@pytest.mark.parametrize("who", ["approver", "finance"])
def test_approving_an_approved_text_again_is_refused(api, cast, who):
    text = text_at(cast, State.APPROVED)
    before = snapshot(text)

    response = post_action(api, getattr(cast, who), text, "approve")

    assert response.status_code == 409, response.content
    assert snapshot(text) == before


@pytest.mark.parametrize("offset", [-1, 1])
def test_a_stale_version_is_refused_with_the_current_one(api, cast, offset):
    text = text_at(cast, State.DEPT_REVIEW)
    before, refused = snapshot(text), refusals(api, cast, text)
    current = fresh(text).version

    response = post_action(api, cast.org_reviewer, text, "dept_approve", version=current + offset)

    assert response.status_code == 409, response.content
    assert response.json()["current_version"] == current
    assert snapshot(text) == before
    assert_new_refusal(api, cast, text, refused, cast.org_reviewer, "dept_approve")


@pytest.mark.parametrize("body", [{}, {"version": None}, {"version": "2"}, {"version": True}])
def test_an_action_without_an_integer_version_is_invalid(api, cast, body):
    text = text_at(cast, State.DEPT_REVIEW)
    before = snapshot(text)

    response = api(cast.org_reviewer).post(url(text, "actions/dept_approve/"), body, format="json")

    assert response.status_code == 400, response.content
    assert "version" in response.json()
    assert snapshot(text) == before


def test_an_unknown_action_is_invalid(api, cast):
    text = text_at(cast, State.DEPT_REVIEW)
    before = snapshot(text)

    response = post_action(api, cast.org_reviewer, text, "publish")

    assert response.status_code == 400
    assert snapshot(text) == before


@pytest.mark.parametrize("action", ["return", "reject"])
@pytest.mark.parametrize("comment", [None, "", "   \n\t "], ids=["missing", "empty", "blank"])
def test_return_and_reject_need_a_reason(api, cast, action, comment):
    text = text_at(cast, State.DEPT_REVIEW)
    before = snapshot(text)
    body = {} if comment is None else {"comment": comment}

    response = post_action(api, cast.org_reviewer, text, action, **body)

    assert response.status_code == 400, response.content
    assert "comment" in response.json()
    assert snapshot(text) == before


# --- refusals: editing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("state", "approved"), ("department", "edu"), ("revision", 7)],
)
def test_patch_cannot_set_workflow_fields(api, cast, field, value):
    text = cast.text()
    before = snapshot(text)

    response = api(cast.org_drafter).patch(
        url(text), {"version": 1, "title": "新名称", field: value}, format="json"
    )

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert snapshot(text) == before
    assert fresh(text).department == cast.org


def test_patch_on_a_text_in_review_is_refused(api, cast):
    text = text_at(cast, State.DEPT_REVIEW)
    before, refused = snapshot(text), refusals(api, cast, text)

    response = api(cast.org_drafter).patch(
        url(text), {"version": before[1], "title": "审核中改名"}, format="json"
    )

    assert response.status_code == 409, response.content
    assert snapshot(text) == before
    assert_new_refusal(api, cast, text, refused, cast.org_drafter, "edit")


def test_patch_with_a_stale_version_is_refused(api, cast):
    text = cast.text()
    services.edit_text(actor=cast.org_drafter, text_id=text.pk, version=1, data={"plan": "新计划"})
    before, refused = snapshot(text), refusals(api, cast, text)

    response = api(cast.org_drafter).patch(
        url(text), {"version": 1, "title": "旧版"}, format="json"
    )

    assert response.status_code == 409, response.content
    assert response.json()["current_version"] == 2
    assert snapshot(text) == before
    assert_new_refusal(api, cast, text, refused, cast.org_drafter, "edit")


def test_patch_without_a_version_is_invalid(api, cast):
    text = cast.text()
    before = snapshot(text)

    response = api(cast.org_drafter).patch(url(text), {"title": "无版本"}, format="json")

    assert response.status_code == 400, response.content
    assert "version" in response.json()
    assert snapshot(text) == before


# --- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/texts/"),
        ("get", "/me/"),
        ("get", "/texts/inbox/"),
        ("get", "/departments/"),
        ("get", "/audit/events/"),
        ("post", "/texts/"),
    ],
)
def test_an_anonymous_request_gets_401(api, cast, method, path):
    client = api()
    if method == "get":
        response = client.get(f"{API}{path}")
    else:
        response = client.post(f"{API}{path}", text_fields(), format="json")

    assert response.status_code == 401


def test_an_anonymous_action_gets_401_and_changes_nothing(api, cast):
    text = text_at(cast, State.DEPT_REVIEW)
    before = snapshot(text)

    response = api().post(url(text, "actions/dept_approve/"), {"version": before[1]}, format="json")

    assert response.status_code == 401
    assert snapshot(text) == before


def test_a_token_from_username_and_password_authenticates_scripts(api, cast):
    issued = api().post(
        f"{API}/auth/token/", {"username": "org_drafter", "password": PASSWORD}, format="json"
    )
    assert issued.status_code == 200, issued.content
    token = issued.json()["token"]

    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get(f"{API}/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "org_drafter"


def test_a_wrong_password_gets_no_token(api, cast):
    response = api().post(
        f"{API}/auth/token/", {"username": "org_drafter", "password": "wrong"}, format="json"
    )

    assert response.status_code == 400
    assert "token" not in response.json()


def test_a_bad_token_gets_401(api, cast):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    assert client.get(f"{API}/me/").status_code == 401


# --- the list --------------------------------------------------------------------------------


def test_the_list_is_paginated(api, cast):
    for n in range(3):
        cast.text(title=f"项目{n}")

    body = api(cast.org_drafter).get(f"{API}/texts/", {"page_size": 2}).json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], len(body["results"]), body["previous"]) == (3, 2, None)
    assert "page=2" in body["next"]
    second = api(cast.org_drafter).get(f"{API}/texts/", {"page_size": 2, "page": 2}).json()
    assert (len(second["results"]), second["next"]) == (1, None)
    assert second["previous"] is not None


def test_page_size_is_capped_at_500(api, cast):
    for n in range(501):
        services.create_text(
            actor=cast.org_drafter, data={"title": f"项目{n}", "fiscal_year": 2025}
        )

    body = api(cast.org_drafter).get(f"{API}/texts/", {"page_size": 10_000}).json()

    assert body["count"] == 501
    assert len(body["results"]) == 500
    assert body["next"] is not None


def _listed(api, user, **params) -> list[int]:
    response = api(user).get(f"{API}/texts/", params)
    assert response.status_code == 200, response.content
    return sorted(t["id"] for t in response.json()["results"])


@pytest.fixture
def listed_texts(cast):
    return {
        "draft": cast.text(title="村级组织换届工作经费"),
        "later": cast.text(title="党员教育培训经费", fiscal_year=2026),
        "review": text_at(cast, State.DEPT_REVIEW),
        "edu": make_text(
            cast.edu_drafter, cast.edu, title="学校校舍维修", implementer="新平县教育体育局。"
        ),
    }


def test_the_list_filters_by_state(api, cast, listed_texts):
    assert _listed(api, cast.auditor, state="dept_review") == [listed_texts["review"].pk]


def test_the_list_filters_by_department_code(api, cast, listed_texts):
    assert _listed(api, cast.auditor, department="edu") == [listed_texts["edu"].pk]


def test_the_list_filters_by_fiscal_year(api, cast, listed_texts):
    assert _listed(api, cast.auditor, fiscal_year=2026) == [listed_texts["later"].pk]


def test_the_list_searches_title_and_implementer(api, cast, listed_texts):
    assert _listed(api, cast.auditor, q="党员教育") == [listed_texts["later"].pk]
    assert _listed(api, cast.auditor, q="教育体育局") == [listed_texts["edu"].pk]


@pytest.mark.parametrize(("name", "value"), [("state", "published"), ("fiscal_year", "next")])
def test_an_invalid_list_filter_is_400(api, cast, name, value):
    response = api(cast.auditor).get(f"{API}/texts/", {name: value})

    assert response.status_code == 400
    assert name in response.json()


def test_list_items_use_codes_decimal_strings_and_iso_times(api, cast):
    cast.text()

    (item,) = api(cast.org_drafter).get(f"{API}/texts/").json()["results"]

    assert item["department"] == "org"
    assert item["amount"] == "1751800.00"
    for name in ("created_at", "updated_at", "entered_state_at"):
        assert ISO_WITH_OFFSET.match(item[name]), item[name]
        assert datetime.fromisoformat(item[name]).utcoffset() is not None


# --- the inbox -------------------------------------------------------------------------------


def _inbox(api, user) -> list[int]:
    response = api(user).get(f"{API}/texts/inbox/")
    assert response.status_code == 200, response.content
    return [t["id"] for t in response.json()["results"]]


def test_the_department_reviewers_inbox_holds_submitted_texts_oldest_first(api, cast):
    created_first = cast.text(title="先建后交")
    created_second = cast.text(title="后建先交")
    cast.text(title="未提交")
    act(cast.org_drafter, created_second, "submit")
    act(cast.org_drafter, created_first, "submit")

    assert _inbox(api, cast.org_reviewer) == [created_second.pk, created_first.pk]


def test_a_drafter_reviewer_does_not_find_their_own_text_in_their_inbox(api, cast):
    both = both_drafter_and_reviewer(cast)
    own = make_text(both, cast.org, title="自己写的")
    act(both, own, "submit")
    other = text_at(cast, State.DEPT_REVIEW)

    assert _inbox(api, both) == [other.pk]
    assert _inbox(api, cast.org_reviewer) == [own.pk, other.pk]


def test_finance_inbox_receives_the_text_after_dept_approval(api, cast):
    text = text_at(cast, State.DEPT_REVIEW)
    assert _inbox(api, cast.finance) == []

    act(cast.org_reviewer, text, "dept_approve")

    assert _inbox(api, cast.finance) == [text.pk]
    assert _inbox(api, cast.org_reviewer) == []


def test_a_returned_text_waits_in_the_drafters_inbox(api, cast):
    text = returned_text(cast)

    assert _inbox(api, cast.org_drafter) == [text.pk]
    assert _inbox(api, cast.org_reviewer) == []


# --- me and departments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "roles", "departments"),
    [
        ("org_drafter", {"drafter"}, ["org"]),
        ("edu_reviewer", {"dept_reviewer"}, ["edu"]),
        ("finance", {"finance_reviewer"}, ["edu", "org"]),
        ("auditor", {"auditor"}, ["edu", "org"]),
        # 三员分立 (issue 11): admin, once a superuser holding all five, is the system
        # administrator, covering no department's texts.
        ("admin", {"system_admin"}, []),
    ],
)
def test_me_lists_the_users_roles_and_departments(api, cast, who, roles, departments):
    response = api(getattr(cast, who)).get(f"{API}/me/")

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == who
    assert set(body["roles"]) == roles
    assert sorted(body["departments"]) == departments


def test_me_lists_both_roles_of_a_drafter_reviewer(api, cast):
    both = both_drafter_and_reviewer(cast)

    body = api(both).get(f"{API}/me/").json()

    assert set(body["roles"]) == {"drafter", "dept_reviewer"}
    assert body["departments"] == ["org"]


def test_departments_are_listed_by_code_and_name(api, cast):
    response = api(cast.org_drafter).get(f"{API}/departments/")

    assert response.status_code == 200
    assert response.json() == [
        {"code": "edu", "name": "新平县教育体育局"},
        {"code": "org", "name": "中共新平彝族傣族自治县委员会组织部"},
    ]


# --- history ---------------------------------------------------------------------------------


def test_history_lists_every_event_oldest_first(api, cast):
    text = cast.text()
    services.edit_text(actor=cast.org_drafter, text_id=text.pk, version=1, data={"plan": "新"})
    act(cast.org_drafter, text, "submit")
    refused = post_action(api, cast.org_drafter, text, "dept_approve")  # not a reviewer
    assert refused.status_code == 403
    act(cast.org_reviewer, text, "return", comment=REASON)

    response = api(cast.org_drafter).get(url(text, "history/"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    events = body["results"]
    assert [(e["action"], e["outcome"]) for e in events] == [
        ("create", "ok"),
        ("edit", "ok"),
        ("submit", "ok"),
        ("dept_approve", "refused"),
        ("return", "ok"),
    ]
    for event in events:
        assert set(event) >= HISTORY_KEYS
        assert ISO_WITH_OFFSET.match(event["at"]), event["at"]
    ids = [e["id"] for e in events]
    assert ids == sorted(ids)
    times = [datetime.fromisoformat(e["at"]) for e in events]
    assert times == sorted(times)
    submit = events[2]
    assert (submit["actor"], submit["from_state"], submit["to_state"], submit["revision"]) == (
        "org_drafter",
        "draft",
        "dept_review",
        1,
    )


def test_history_is_paginated(api, cast):
    text = cast.text()
    for n in range(3):
        services.edit_text(
            actor=cast.org_drafter, text_id=text.pk, version=n + 1, data={"plan": f"计划{n}"}
        )

    first = api(cast.org_drafter).get(url(text, "history/"), {"page_size": 3}).json()
    second = api(cast.org_drafter).get(url(text, "history/"), {"page_size": 3, "page": 2}).json()

    assert first["count"] == 4
    assert [e["action"] for e in first["results"]] == ["create", "edit", "edit"]
    assert first["next"] is not None
    assert [e["changes"]["plan"][1] for e in second["results"]] == ["计划2"]


def test_an_edits_history_entry_has_each_fields_before_and_after(api, cast):
    text = cast.text()
    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=1,
        data={"amount": "1800000.00", "plan": "项目于2025年10月开展。", "title": text.title},
    )

    (edit,) = [e for e in history(api, cast.org_drafter, text) if e["action"] == "edit"]

    assert edit["changes"] == {
        "amount": ["1751800.00", "1800000.00"],
        "plan": ["项目于2025年9月开展。", "项目于2025年10月开展。"],
    }
    assert (edit["actor"], edit["from_state"], edit["to_state"]) == (
        "org_drafter",
        "draft",
        "draft",
    )


# --- import and export -----------------------------------------------------------------------


def _upload(api, user, name: str, data: bytes):
    upload = io.BytesIO(data)
    upload.name = name
    return api(user).post(f"{API}/texts/import/", {"file": upload}, format="multipart")


def test_importing_the_sample_creates_its_two_drafts(api, cast):
    response = _upload(api, cast.org_drafter, SAMPLE.name, SAMPLE.read_bytes())

    assert response.status_code == 201, response.content
    created = response.json()["created"]
    assert [t["amount"] for t in created] == ["1751800.00", "1227700.00"]
    assert [t["title"] for t in created] == [
        "新平县村级组织换届工作经费",
        "新平县委组织部党建工作经费",
    ]
    for item in created:
        assert (item["state"], item["department"], item["fiscal_year"]) == ("draft", "org", 2025)
        for name in SECTION_NAMES:
            assert item[name].strip(), name
    stored = ProjectText.objects.filter(pk__in=[t["id"] for t in created])
    assert sorted(t.state for t in stored) == ["draft", "draft"]
    assert {t.created_by for t in stored} == {cast.org_drafter}


def test_a_drafter_cannot_import_into_another_department(api, cast):
    events = AuditEvent.objects.count()

    response = _upload(api, cast.edu_drafter, SAMPLE.name, SAMPLE.read_bytes())

    assert response.status_code == 400, response.content
    assert "file" in response.json()
    assert ProjectText.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_a_malformed_file_is_400_naming_the_line_and_creates_nothing(api, cast):
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    assert lines[29].startswith("新平县委组织部党建工作经费")
    lines[29] = ""  # the second text's 一、项目名称 (line 29) is left empty

    response = _upload(api, cast.org_drafter, "broken.txt", "\n".join(lines).encode())

    assert response.status_code == 400, response.content
    (message,) = response.json()["file"]
    assert "第29行" in message
    assert ProjectText.objects.count() == 0


def test_an_upload_without_a_file_is_400(api, cast):
    response = api(cast.org_drafter).post(f"{API}/texts/import/", {}, format="multipart")

    assert response.status_code == 400
    assert ProjectText.objects.count() == 0


def test_the_word_export_imports_back_to_the_same_sections(api, cast):
    (text, _second) = services.import_texts(
        actor=cast.org_drafter, filename=SAMPLE.name, data=SAMPLE.read_bytes()
    )

    response = api(cast.org_reviewer).get(url(text, "export.docx"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    (parsed,) = parse_texts(response.content, "export.docx")
    assert parsed.department_name == cast.org.name
    assert (parsed.fiscal_year, parsed.amount) == (2025, text.amount)
    for name in SECTION_NAMES:
        assert getattr(parsed, name) == getattr(text, name), name


# --- the auditors' API -----------------------------------------------------------------------


def _events(api, user, **params):
    response = api(user).get(f"{API}/audit/events/", {"page_size": 500, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_an_auditor_reads_all_events(api, cast):
    text = text_at(cast, State.FINANCE_REVIEW)

    events = _events(api, cast.auditor)

    assert len(events) == AuditEvent.objects.count()
    assert [e["action"] for e in events if e["text"] == text.pk] == [
        "create",
        "submit",
        "dept_approve",
    ]
    assert {e["action"] for e in events if e["text"] is None} == {"grant_role"}


def test_audit_events_filter_by_actor(api, cast):
    text_at(cast, State.APPROVAL)

    events = _events(api, cast.auditor, actor="finance")

    assert [(e["actor"], e["action"]) for e in events] == [("finance", "finance_approve")]


def test_audit_events_filter_by_action(api, cast):
    first, second = cast.text(), cast.text()
    act(cast.org_drafter, first, "submit")
    act(cast.org_drafter, second, "submit")

    events = _events(api, cast.auditor, action="submit")

    assert sorted(e["text"] for e in events) == sorted([first.pk, second.pk])
    assert {e["action"] for e in events} == {"submit"}


def test_audit_events_filter_by_text(api, cast):
    text, other = cast.text(), cast.text()
    act(cast.org_drafter, other, "submit")

    events = _events(api, cast.auditor, text=text.pk)

    assert [(e["text"], e["action"]) for e in events] == [(text.pk, "create")]


def test_audit_events_filter_by_since_and_until_times(api, cast):
    early = cast.text()
    between = timezone.now()
    late = cast.text()

    since = _events(api, cast.auditor, since=between.isoformat(), action="create")
    until = _events(api, cast.auditor, until=between.isoformat(), action="create")

    assert [e["text"] for e in since] == [late.pk]
    assert [e["text"] for e in until] == [early.pk]


def test_audit_events_since_a_date_start_at_that_days_midnight(api, cast):
    cast.text()
    today = timezone.localdate()

    assert len(_events(api, cast.auditor, since=today.isoformat())) == AuditEvent.objects.count()
    assert _events(api, cast.auditor, since=(today + timedelta(days=1)).isoformat()) == []


def test_audit_events_until_a_date_include_that_whole_day(api, cast):
    cast.text()
    today = timezone.localdate()

    assert len(_events(api, cast.auditor, until=today.isoformat())) == AuditEvent.objects.count()
    assert _events(api, cast.auditor, until=(today - timedelta(days=1)).isoformat()) == []


def test_an_invalid_audit_time_filter_is_400(api, cast):
    response = api(cast.auditor).get(f"{API}/audit/events/", {"since": "yesterday"})

    assert response.status_code == 400
    assert "since" in response.json()


@pytest.mark.parametrize("who", ["org_drafter", "org_reviewer", "finance", "approver"])
@pytest.mark.parametrize("path", ["/audit/events/", "/audit/export.csv", "/audit/verify/"])
def test_only_auditors_use_the_audit_api(api, cast, who, path):
    response = api(getattr(cast, who)).get(f"{API}{path}")

    assert response.status_code == 403


def test_the_audit_csv_opens_in_excel_with_its_chinese_intact(api, cast):
    text = returned_text(cast)

    response = api(cast.auditor).get(f"{API}/audit/export.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:5] == ["id", "at", "actor", "action", "outcome"]
    assert len(rows) == 1 + AuditEvent.objects.count()
    returns = [r for r in rows[1:] if r[header.index("action")] == "return"]
    assert [r[header.index("comment")] for r in returns] == [REASON]
    assert returns[0][header.index("text")] == str(text.pk)


def test_audit_verify_reports_an_intact_log(api, cast):
    text_at(cast, State.APPROVED)
    post_action(api, cast.org_drafter, text_at(cast, State.DEPT_REVIEW), "dept_approve")

    response = api(cast.auditor).get(f"{API}/audit/verify/")

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("ok", "checked", "first_bad")} == {
        "ok": True,
        "checked": AuditEvent.objects.count(),
        "first_bad": None,
    }
    assert body["checked"] > 10


# --- more of the contract: offers, creation, unknown ids, inboxes of superusers ---------------


@pytest.mark.parametrize("stage", REVIEW_STAGES)
def test_the_stage_reviewer_is_offered_approve_return_and_reject(api, cast, stage):
    text = text_at(cast, stage)
    who, approving = STAGE_REVIEWER[stage]

    offered = api(getattr(cast, who)).get(url(text)).json()["available_actions"]

    assert sorted(offered) == sorted([approving, "return", "reject"])


def test_a_draft_created_over_http_belongs_to_the_drafter_and_their_department(api, cast):
    response = api(cast.org_drafter).post(f"{API}/texts/", text_fields(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["department"], body["created_by"], body["amount"]) == (
        "org",
        "org_drafter",
        "1751800.00",
    )
    (event,) = history(api, cast.auditor, body["id"])
    assert (event["action"], event["actor"], event["to_state"]) == (
        "create",
        "org_drafter",
        "draft",
    )


@pytest.mark.parametrize(
    "amount",
    ["-1.00", "1234567890123.00", "1.005", "abc", "NaN", "1e400", "1E+30"],
)
def test_creating_with_an_invalid_amount_is_400(api, cast, amount):
    client = api(cast.org_drafter)
    client.raise_request_exception = False

    response = client.post(f"{API}/texts/", text_fields(amount=amount), format="json")

    assert response.status_code == 400, (amount, response.status_code)
    assert "amount" in response.json()
    assert ProjectText.objects.count() == 0


@pytest.mark.parametrize("amount", ["-5", "1e400"])
def test_editing_to_an_invalid_amount_is_400(api, cast, amount):
    text = cast.text()
    before = snapshot(text)
    client = api(cast.org_drafter)
    client.raise_request_exception = False

    response = client.patch(url(text), {"version": 1, "amount": amount}, format="json")

    assert response.status_code == 400, (amount, response.status_code)
    assert snapshot(text) == before


def test_a_drafter_cannot_create_a_text_for_another_department(api, cast):
    response = api(cast.org_drafter).post(
        f"{API}/texts/", {**text_fields(), "department": "edu"}, format="json"
    )

    assert response.status_code == 403
    assert ProjectText.objects.count() == 0


@pytest.mark.parametrize("who", ["auditor", "finance", "org_reviewer"])
def test_only_drafters_create_texts(api, cast, who):
    response = api(getattr(cast, who)).post(
        f"{API}/texts/", {**text_fields(), "department": "org"}, format="json"
    )

    assert response.status_code == 403
    assert ProjectText.objects.count() == 0


def test_creating_for_an_unknown_department_is_400(api, cast):
    response = api(cast.org_drafter).post(
        f"{API}/texts/", {**text_fields(), "department": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert "department" in response.json()


def test_submitting_an_incomplete_draft_names_what_is_missing(api, cast):
    text = services.create_text(
        actor=cast.org_drafter, data={"title": "只有名称", "fiscal_year": 2025}
    )
    before = snapshot(text)

    response = post_action(api, cast.org_drafter, text, "submit")

    assert response.status_code == 400
    assert set(response.json()) == {*SECTION_NAMES[1:], "amount"}
    assert snapshot(text) == before
    assert Revision.objects.filter(text=text).count() == 0


def test_submitting_with_a_zero_amount_is_400(api, cast):
    text = cast.text(amount="0")

    response = post_action(api, cast.org_drafter, text, "submit")

    assert response.status_code == 400
    assert set(response.json()) == {"amount"}
    assert fresh(text).state == State.DRAFT


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("get", "history/"),
        ("get", "revisions/"),
        ("get", "export.docx"),
        ("patch", ""),
        ("post", "actions/submit/"),
    ],
)
@pytest.mark.parametrize("pk", [999999, 99999999999999999999])
def test_an_unknown_text_is_404(api, cast, method, path, pk):
    client = api(cast.admin)
    client.raise_request_exception = False
    if method == "get":
        response = client.get(url(pk, path))
    else:
        response = getattr(client, method)(url(pk, path), {"version": 1}, format="json")

    assert response.status_code == 404


def test_an_unknown_revision_is_404(api, cast):
    text = text_at(cast, State.DEPT_REVIEW)

    assert api(cast.org_reviewer).get(url(text, "revisions/2/diff/?against=1")).status_code == 404
    assert api(cast.org_reviewer).get(url(text, "revisions/1/diff/?against=5")).status_code == 404


def test_a_superusers_inbox_leaves_out_what_they_wrote_or_already_approved(api, cast, superuser):
    theirs = make_text(superuser, cast.org, title="管理员写的")
    act(superuser, theirs, "submit")
    approved_by_them = text_at(cast, State.DEPT_REVIEW)
    act(superuser, approved_by_them, "dept_approve")
    waiting = text_at(cast, State.DEPT_REVIEW)

    assert _inbox(api, superuser) == [waiting.pk]
    assert _inbox(api, cast.finance) == [approved_by_them.pk]


def test_a_word_file_made_by_the_export_imports_over_http(api, cast):
    text = cast.text()
    exported = api(cast.org_drafter).get(url(text, "export.docx")).content

    response = _upload(api, cast.org_drafter, "exported.docx", exported)

    assert response.status_code == 201, response.content
    (created,) = response.json()["created"]
    for name in (*SECTION_NAMES, "amount", "fiscal_year", "department"):
        assert created[name] == api(cast.org_drafter).get(url(text)).json()[name], name


# --- never 500 for what a client sends -------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [{"text": "99999999999999999999"}, {"since": "0001-01-01"}, {"until": "9999-12-31"}],
)
def test_extreme_audit_filters_are_answered_without_a_server_error(api, cast, params):
    client = api(cast.auditor)
    client.raise_request_exception = False

    response = client.get(f"{API}/audit/events/", params)

    assert response.status_code in (200, 400), response.status_code
