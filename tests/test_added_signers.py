"""加签 (DESIGN.md, "Added signer"): a reviewer of the current stage makes someone a required
approver of that stage for this text."""

from submissions.models import ProjectText
from tests.factories import act, make_user
from tests.routing import post_action, state_of
from workflow.models import AuditEvent, OutboxMessage


def add(api, by, text, user: str, comment: str = "请法制股把关"):
    return post_action(api, by, text, "add_signer", user=user, comment=comment)


def test_an_added_signer_must_approve_before_the_stage_completes(cast, api):
    make_user("legal")
    text = cast.text_in("finance_review")
    add(api, cast.finance, text, "legal")

    response = post_action(api, cast.finance, text, "finance_approve")

    assert response.json()["state"] == "finance_review"
    assert response.json()["stage_progress"]["added_signers"] == [
        {"user": "legal", "approved": False}
    ]


def test_the_stage_completes_when_the_added_signer_approves(cast, api):
    legal = make_user("legal")
    text = cast.text_in("finance_review")
    add(api, cast.finance, text, "legal")
    post_action(api, cast.finance, text, "finance_approve")

    response = post_action(api, legal, text, "finance_approve")

    assert response.status_code == 200
    assert response.json()["state"] == "approval"


def test_adding_a_signer_keeps_the_version(cast, api):
    make_user("legal")
    text = cast.text_in("finance_review")

    response = add(api, cast.finance, text, "legal")

    assert response.status_code == 200
    assert response.json()["version"] == text.version


def test_adding_a_signer_is_audited_and_the_signer_is_told(cast, api):
    legal = make_user("legal")
    text = cast.text_in("finance_review")

    add(api, cast.finance, text, "legal")

    event = AuditEvent.objects.get(text=text, action="add_signer")
    assert (event.actor, event.detail["user"]) == (cast.finance, "legal")
    assert OutboxMessage.objects.filter(text=text, kind="add_signer", recipient=legal).exists()


def test_the_added_signer_sees_the_text_in_the_inbox(cast, api):
    legal = make_user("legal")
    text = cast.text_in("finance_review")
    add(api, cast.finance, text, "legal")

    inbox = api(legal).get("/api/v1/texts/inbox/").json()

    assert [t["id"] for t in inbox["results"]] == [text.pk]


def test_only_a_reviewer_of_the_current_stage_may_add_a_signer(cast, api):
    make_user("legal")
    text = cast.text_in("finance_review")

    response = add(api, cast.approver, text, "legal")

    assert response.status_code in (403, 404)
    assert not AuditEvent.objects.filter(text=text, action="add_signer", outcome="ok").exists()


def test_separation_of_duties_applies_to_an_added_signer(cast, api):
    text = cast.text_in("finance_review")

    response = add(api, cast.finance, text, "org_drafter")

    assert response.status_code == 400
    assert "user" in response.json()


def test_the_same_signer_twice_is_409(cast, api):
    make_user("legal")
    text = cast.text_in("finance_review")
    add(api, cast.finance, text, "legal")

    response = add(api, cast.finance, text, "legal")

    assert response.status_code == 409


def test_an_unknown_user_is_400_naming_the_field(cast, api):
    text = cast.text_in("finance_review")

    response = add(api, cast.finance, text, "nobody_like_this")

    assert response.status_code == 400
    assert "user" in response.json()


def test_an_added_signer_may_return_the_text(cast, api):
    legal = make_user("legal")
    text = cast.text_in("finance_review")
    add(api, cast.finance, text, "legal")

    response = post_action(api, legal, text, "return", comment="依据不足")

    assert response.json()["state"] == "returned"
    assert state_of(text) == "returned"


def test_a_signer_added_at_one_revision_is_not_required_at_the_next(cast, api):
    make_user("legal")
    text = cast.text_in("finance_review")
    add(api, cast.finance, text, "legal")
    act(cast.finance, text, "return", comment="补充")
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "dept_approve")

    response = post_action(
        api, cast.finance, ProjectText.objects.get(pk=text.pk), "finance_approve"
    )

    assert response.json()["state"] == "approval"
