"""委托 (DESIGN.md, "Delegation"): someone with no role of their own acts for a reviewer
while the delegation is active, in the reviewer's name and their own."""

from datetime import timedelta

import pytest
from django.utils import timezone

from submissions.models import ProjectText
from tests.factories import act, make_text, make_user
from tests.routing import history, post_action, state_of
from workflow.exceptions import InvalidInput, NotVisible
from workflow.models import AuditEvent, Decision, OutboxMessage
from workflow.permissions import Authority
from workflow.services import give_delegation, grant_role, perform_action, revoke_delegation


def today():
    return timezone.localdate()


@pytest.fixture
def deputy(cast):
    """A colleague with no role of their own."""
    return make_user("deputy")


def delegate(cast, deputy, starts=0, ends=3, **kwargs):
    return give_delegation(
        actor=cast.approver,
        to=deputy.username,
        starts=today() + timedelta(days=starts),
        ends=today() + timedelta(days=ends),
        reason="出差",
        **kwargs,
    )


def test_a_delegate_with_no_role_approves_for_the_approver_inside_the_window(cast, api, deputy):
    text = cast.text_in("approval")
    delegate(cast, deputy)

    response = post_action(api, deputy, text, "approve", comment="同意")

    assert response.status_code == 200
    assert response.json()["state"] == "approved"


def test_the_decision_counts_as_the_approvers_and_names_both(cast, deputy):
    text = cast.text_in("approval")
    delegate(cast, deputy)

    act(deputy, text, "approve")

    decision = Decision.objects.get(text=text, action="approve")
    assert (decision.actor, decision.on_behalf_of) == (deputy, cast.approver)


def test_the_history_names_the_delegate_and_whom_they_acted_for(cast, api, deputy):
    text = cast.text_in("approval")
    delegate(cast, deputy)
    act(deputy, text, "approve")

    [event] = [e for e in history(api, cast.auditor, text) if e["action"] == "approve"]

    assert (event["actor"], event["on_behalf_of"]) == ("deputy", "approver")


def test_the_notification_of_a_delegates_action_names_both(cast, deputy):
    text = cast.text_in("approval")
    delegate(cast, deputy)

    act(deputy, text, "approve")

    told = OutboxMessage.objects.filter(text=text, kind="approve").first()
    assert (told.actor, told.on_behalf_of) == (deputy, cast.approver)


def test_the_delegate_sees_the_approvers_waiting_texts_in_the_inbox(cast, api, deputy):
    text = cast.text_in("approval")
    delegate(cast, deputy)

    inbox = api(deputy).get("/api/v1/texts/inbox/").json()

    assert [t["id"] for t in inbox["results"]] == [text.pk]


def test_before_the_window_the_delegate_may_not_act(cast, api, deputy):
    text = cast.text_in("approval")
    delegate(cast, deputy, starts=2, ends=5)

    response = post_action(api, deputy, text, "approve")

    assert response.status_code == 404  # not even visible: no role, no delegation yet
    assert state_of(text) == "approval"


def test_after_the_window_the_delegate_may_not_act(cast, deputy):
    text = cast.text_in("approval")
    delegate(cast, deputy, starts=0, ends=0)
    tomorrow = Authority.of(deputy, on=today() + timedelta(days=1))

    with pytest.raises(NotVisible):
        perform_action(
            actor=deputy,
            text_id=text.pk,
            action="approve",
            version=text.version,
            authority=tomorrow,
        )

    assert state_of(text) == "approval"


def test_on_the_last_day_of_the_window_the_delegate_may_act(cast, deputy):
    text = cast.text_in("approval")
    delegate(cast, deputy, starts=0, ends=1)
    last_day = Authority.of(deputy, on=today() + timedelta(days=1))

    perform_action(
        actor=deputy, text_id=text.pk, action="approve", version=text.version, authority=last_day
    )

    assert state_of(text) == "approved"


def test_after_revoking_the_delegate_may_not_act(cast, api, deputy):
    text = cast.text_in("approval")
    delegation = delegate(cast, deputy)
    revoke_delegation(actor=cast.approver, delegation_id=delegation.pk)

    response = post_action(api, deputy, text, "approve")

    assert response.status_code == 404
    assert state_of(text) == "approval"


def test_a_delegate_who_drafted_the_text_is_refused(cast, api):
    colleague = make_user("colleague", "drafter", cast.org)
    text = make_text(colleague, cast.org)
    act(colleague, text, "submit")
    act(cast.org_reviewer, text, "dept_approve")
    act(cast.finance, text, "finance_approve")
    give_delegation(actor=cast.approver, to="colleague", starts=today(), ends=today())

    response = post_action(api, colleague, ProjectText.objects.get(pk=text.pk), "approve")

    assert response.status_code == 403
    assert state_of(text) == "approval"


def test_a_delegate_acting_for_someone_who_drafted_the_text_is_refused(cast, api, deputy):
    grant_role(actor=None, user=cast.approver, role="drafter", department=cast.org)
    text = make_text(cast.approver, cast.org)
    act(cast.approver, text, "submit")
    act(cast.org_reviewer, text, "dept_approve")
    make_user("approver_2", "approver")  # the stage stays reachable without the author
    act(cast.finance, text, "finance_approve")
    delegate(cast, deputy)

    response = post_action(api, deputy, text, "approve")

    assert response.status_code == 403


def test_giving_and_revoking_are_audited_on_the_delegators_stream(cast, deputy):
    delegation = delegate(cast, deputy)
    revoke_delegation(actor=cast.approver, delegation_id=delegation.pk)

    actions = list(
        AuditEvent.objects.filter(stream=f"user:{cast.approver.pk}").values_list(
            "action", flat=True
        )
    )

    assert actions[-2:] == ["delegation_given", "delegation_revoked"]


def test_nobody_delegates_to_themselves(cast):
    with pytest.raises(InvalidInput):
        give_delegation(actor=cast.approver, to="approver", starts=today(), ends=today())


def test_received_rights_are_not_passed_on(cast, deputy):
    delegate(cast, deputy)
    make_user("third")

    with pytest.raises(InvalidInput):
        give_delegation(actor=deputy, to="third", starts=today(), ends=today())


def test_a_delegation_may_be_limited_to_some_roles(cast, api, deputy):
    grant_role(actor=None, user=cast.approver, role="finance_reviewer")
    text = cast.text_in("approval")
    delegate(cast, deputy, roles=["finance_reviewer"])

    response = post_action(api, deputy, text, "approve")

    # The deputy sees what the approver sees as a finance reviewer (this text passed that
    # stage), but may not act at the approval stage.
    assert response.status_code == 403
    assert state_of(text) == "approval"
