"""Every change of an account's privileges goes through the audited account service,
whatever screen it comes from (issue 7, point 6: the admin's "superuser status" checkbox
once gave a user all five roles in every department with no audit event)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from tests.factories import make_user, sign_in_with_code
from workflow import audit, services
from workflow.exceptions import InvalidInput, NotPermitted
from workflow.models import AuditEvent
from workflow.permissions import Authority
from workflow.services.accounts import PRIVILEGES

User = get_user_model()


def change_form(user, **overrides) -> dict:
    """The admin's change form as a browser posts it, with `overrides` applied."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        **{name: "on" for name in PRIVILEGES if getattr(user, name)},
    }
    for name, value in overrides.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return data


def account_events(user) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            stream=audit.user_stream(user.pk), action__in=["change_account", "create_account"]
        ).order_by("seq")
    )


@pytest.mark.parametrize("privilege", PRIVILEGES)
def test_a_privilege_ticked_in_the_admin_is_audited_with_before_and_after(cast, client, privilege):
    colleague = make_user("colleague", is_active=privilege != "is_active")
    client.force_login(cast.admin)

    response = client.post(
        f"/admin/auth/user/{colleague.pk}/change/", change_form(colleague, **{privilege: True})
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert getattr(User.objects.get(pk=colleague.pk), privilege) is True
    [event] = account_events(colleague)
    assert event.action == "change_account"
    assert event.actor_name == "admin"
    assert event.changes == {privilege: [False, True]}


def test_the_superuser_checkbox_no_longer_hands_out_roles_unseen(cast, client):
    colleague = make_user("colleague")
    client.force_login(cast.admin)

    client.post(
        f"/admin/auth/user/{colleague.pk}/change/", change_form(colleague, is_superuser=True)
    )

    # 三员分立 (issue 11): the flag once meant all five roles; now it grants none.
    assert Authority.of(User.objects.get(pk=colleague.pk)).roles == []
    assert account_events(colleague)[-1].changes == {"is_superuser": [False, True]}
    assert audit.verify().ok


def test_deactivating_in_the_admin_is_audited(cast, client):
    client.force_login(cast.admin)

    client.post(
        f"/admin/auth/user/{cast.org_reviewer.pk}/change/",
        change_form(cast.org_reviewer, is_active=False),
    )

    assert User.objects.get(pk=cast.org_reviewer.pk).is_active is False
    assert account_events(cast.org_reviewer)[-1].changes == {"is_active": [True, False]}


# 三员分立 (issue 11): Django's model permissions no longer open the accounts to a clerk,
# not even for their details; accounts are the system administrator's alone.
def test_a_staff_member_who_is_not_an_administrator_cannot_change_accounts(cast, client):
    clerk = make_user("clerk", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    colleague = make_user("colleague")
    sign_in_with_code(client, clerk)

    response = client.post(
        f"/admin/auth/user/{colleague.pk}/change/",
        change_form(colleague, is_superuser=True, is_staff=True, first_name="新名"),
    )

    assert response.status_code == 403
    after = User.objects.get(pk=colleague.pk)
    assert (after.is_superuser, after.is_staff, after.first_name) == (False, False, "")
    assert account_events(colleague) == []


def test_the_service_refuses_a_privilege_change_by_a_non_administrator_and_records_it(cast):
    with pytest.raises(NotPermitted):
        services.change_account(
            actor=cast.org_reviewer, user_id=cast.org_drafter.pk, changes={"is_superuser": True}
        )

    assert User.objects.get(pk=cast.org_drafter.pk).is_superuser is False
    [refused] = AuditEvent.objects.filter(
        stream=audit.user_stream(cast.org_drafter.pk), action="change_account"
    )
    assert (refused.outcome, refused.actor_name) == ("refused", "org_reviewer")
    assert refused.detail["fields"] == ["is_superuser"]


def test_an_account_added_in_the_admin_is_audited(cast, client):
    client.force_login(cast.admin)

    response = client.post(
        "/admin/auth/user/add/",
        {"username": "newcomer", "password1": "A-long-pass-2025", "password2": "A-long-pass-2025"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    newcomer = User.objects.get(username="newcomer")
    [event] = account_events(newcomer)
    assert event.action == "create_account"
    assert event.changes["username"] == [None, "newcomer"]
    assert event.changes["is_superuser"] == [None, False]


def test_no_admin_screen_edits_groups(cast, client):
    client.force_login(cast.admin)

    assert client.get("/admin/auth/group/").status_code == 404


def test_accounts_are_deactivated_never_deleted_in_the_admin(cast, client):
    client.force_login(cast.admin)

    response = client.post(f"/admin/auth/user/{cast.org_drafter.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert User.objects.filter(pk=cast.org_drafter.pk).exists()


def test_an_unknown_account_field_is_refused(cast):
    with pytest.raises(InvalidInput):
        services.change_account(actor=None, user_id=cast.org_drafter.pk, changes={"password": "x"})
