"""The pages of routing: a stage's progress, acting for someone (代 X 审批), adding a signer
(加签), and giving and revoking delegations (委托)."""

from datetime import timedelta

from django.utils import timezone

from tests.factories import act, make_user
from tests.routing import at_finance, county_people, state_of
from workflow.models import AddedSigner, Delegation
from workflow.services import give_delegation


def page(client, user, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_text_page_shows_each_lanes_progress(cast, client):
    county_people(cast)
    text = at_finance(cast)
    act(cast.finance, text, "finance_approve")

    html = page(client, cast.org_drafter, f"/texts/{text.pk}/")

    assert "审批进度" in html
    assert "财政审核人" in html and "绩效审核人" in html
    assert "已通过：finance" in html
    assert "还需 1 人" in html


def delegated_to_deputy(cast):
    deputy = make_user("deputy")
    today = timezone.localdate()
    give_delegation(actor=cast.approver, to="deputy", starts=today, ends=today)
    return deputy


def test_a_delegate_sees_whom_they_act_for_in_the_inbox(cast, client):
    cast.text_in("approval")
    deputy = delegated_to_deputy(cast)

    assert "代 approver 审批" in page(client, deputy, "/inbox/")


def test_a_delegate_sees_whom_they_act_for_on_the_text_page(cast, client):
    text = cast.text_in("approval")
    deputy = delegated_to_deputy(cast)

    html = page(client, deputy, f"/texts/{text.pk}/")

    assert "代 approver 审批" in html
    assert 'name="on_behalf_of" value="approver"' in html


def test_a_delegate_approves_from_the_page_and_the_history_names_both(cast, client):
    text = cast.text_in("approval")
    deputy = delegated_to_deputy(cast)
    client.force_login(deputy)

    response = client.post(
        f"/texts/{text.pk}/act/",
        {"action": "approve", "version": text.version, "on_behalf_of": "approver"},
    )

    assert response.status_code == 303
    assert state_of(text) == "approved"
    assert "deputy（代 approver）" in page(client, cast.org_drafter, f"/texts/{text.pk}/")


def test_a_reviewer_adds_a_signer_from_the_page(cast, client):
    make_user("legal")
    text = cast.text_in("finance_review")
    assert "加签人" in page(client, cast.finance, f"/texts/{text.pk}/")

    response = client.post(
        f"/texts/{text.pk}/add-signer/", {"version": text.version, "user": "legal"}
    )

    assert response.status_code == 303
    assert AddedSigner.objects.filter(text=text, user__username="legal").exists()
    assert "legal" in page(client, cast.finance, f"/texts/{text.pk}/")


def test_adding_an_unknown_signer_from_the_page_is_400_with_the_reason(cast, client):
    text = cast.text_in("finance_review")
    client.force_login(cast.finance)

    response = client.post(
        f"/texts/{text.pk}/add-signer/", {"version": text.version, "user": "nobody"}
    )

    assert response.status_code == 400
    assert "没有这个用户" in response.content.decode()


def test_the_delegations_page_gives_a_delegation(cast, client):
    make_user("deputy")
    client.force_login(cast.approver)
    today = timezone.localdate()

    response = client.post(
        "/delegations/",
        {"to": "deputy", "starts": today.isoformat(), "ends": today.isoformat(), "reason": "休假"},
    )

    assert response.status_code == 303
    assert Delegation.objects.get().delegate.username == "deputy"
    assert "生效中" in page(client, cast.approver, "/delegations/")


def test_the_delegations_page_names_a_bad_field(cast, client):
    make_user("deputy")
    client.force_login(cast.approver)
    today = timezone.localdate()

    response = client.post(
        "/delegations/",
        {
            "to": "deputy",
            "starts": today.isoformat(),
            "ends": (today - timedelta(days=1)).isoformat(),
        },
    )

    assert response.status_code == 400
    assert "结束日期不能早于开始日期" in response.content.decode()
    assert not Delegation.objects.exists()


def test_the_delegations_page_revokes_a_delegation(cast, client):
    delegated_to_deputy(cast)
    delegation = Delegation.objects.get()
    client.force_login(cast.approver)

    response = client.post(f"/delegations/{delegation.pk}/revoke/")

    assert response.status_code == 303
    assert Delegation.objects.get().revoked_at is not None


def test_someone_elses_delegation_cannot_be_revoked_from_the_page(cast, client):
    delegated_to_deputy(cast)
    delegation = Delegation.objects.get()
    client.force_login(cast.finance)

    assert client.post(f"/delegations/{delegation.pk}/revoke/").status_code == 404
    assert Delegation.objects.get().revoked_at is None
