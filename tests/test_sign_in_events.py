"""Sign-in events in the audit log (issue 11, first point): a sign-in by the login page, the
admin's login and the token endpoint, a sign-out, a token issued and revoked, each on the
user's stream, hash-chained like the rest, with who, when, from where, which way in and the
outcome; the auditor finds them by action. Failures and lockouts: tests/test_sign_in.py."""

import pytest

from tests.factories import PASSWORD
from workflow import audit
from workflow.models import AuditEvent
from workflow.selectors.audit import action_choices

OFFICE = "10.1.2.3"


def events(user, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(stream=audit.user_stream(user.pk), action=action).order_by("seq")
    )


def page_login(client, username: str = "org_drafter"):
    return client.post(
        "/accounts/login/", {"username": username, "password": PASSWORD}, REMOTE_ADDR=OFFICE
    )


def admin_login(client, username: str = "admin"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": PASSWORD},
        REMOTE_ADDR=OFFICE,
    )


def token_login(client, username: str = "org_drafter", **extra):
    return client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": PASSWORD},
        content_type="application/json",
        REMOTE_ADDR=OFFICE,
        **extra,
    )


def test_a_sign_in_by_the_login_page_is_recorded_on_the_users_stream(cast, client):
    assert page_login(client).status_code == 302

    [event] = events(cast.org_drafter, "sign_in")
    assert (event.actor_id, event.outcome) == (cast.org_drafter.pk, "ok")
    assert event.detail == {"address": OFFICE, "way": "page", "path": "/accounts/login/"}


def test_a_sign_in_by_the_admins_login_is_recorded_as_the_admin_way_in(cast, client):
    assert admin_login(client).status_code == 302

    [event] = events(cast.admin, "sign_in")
    assert event.detail == {"address": OFFICE, "way": "admin", "path": "/admin/login/"}


def test_a_sign_in_by_the_token_endpoint_is_recorded_with_the_token_issued(cast, client):
    assert token_login(client).status_code == 200

    [signed_in] = events(cast.org_drafter, "sign_in")
    [issued] = events(cast.org_drafter, "token_issued")
    assert signed_in.detail == {"address": OFFICE, "way": "token", "path": "/api/v1/auth/token/"}
    assert issued.seq == signed_in.seq + 1
    assert issued.detail["address"] == OFFICE


def test_the_token_itself_is_never_written_to_the_log(cast, client):
    key = token_login(client).json()["token"]

    assert not AuditEvent.objects.filter(detail__icontains=key).exists()


def test_a_sign_out_is_recorded(cast, client):
    page_login(client)

    client.post("/accounts/logout/", REMOTE_ADDR=OFFICE)

    [event] = events(cast.org_drafter, "sign_out")
    assert (event.actor_id, event.detail["address"], event.detail["way"]) == (
        cast.org_drafter.pk,
        OFFICE,
        "page",
    )


def test_signing_out_a_visitor_records_nothing(cast, client):
    before = AuditEvent.objects.count()

    client.post("/accounts/logout/", REMOTE_ADDR=OFFICE)

    assert AuditEvent.objects.count() == before


def test_sign_ins_and_sign_outs_by_every_way_in_keep_the_chain_verifying(cast, client):
    page_login(client)
    client.post("/accounts/logout/", REMOTE_ADDR=OFFICE)
    admin_login(client)
    client.post("/admin/logout/", REMOTE_ADDR=OFFICE)
    token_login(client, "auditor")

    assert audit.verify().ok
    assert [e.action for e in events(cast.admin, "sign_out")] == ["sign_out"]


@pytest.mark.parametrize("action", ["sign_in", "sign_out", "token_issued", "token_revoked"])
def test_the_auditor_can_choose_each_sign_in_action_on_the_audit_page(db, action):
    assert action in dict(action_choices())


def test_the_auditor_finds_sign_ins_by_action_in_the_api(cast, client, api):
    page_login(client)

    response = api(cast.auditor).get("/api/v1/audit/events/", {"action": "sign_in"})

    assert response.status_code == 200
    [found] = response.json()["results"]
    assert found["actor"] == "org_drafter"


def test_the_auditor_finds_sign_ins_on_the_audit_page(cast, client):
    page_login(client, "org_reviewer")
    client.post("/accounts/logout/")
    client.force_login(cast.auditor)

    page = client.get("/audit/", {"action": "sign_in"}).content.decode()

    assert "登录成功" in page
    assert OFFICE in page
