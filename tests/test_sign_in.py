"""Sign-in (issue 7, points 1 and 4): one throttle for every way in — the login page, the
admin's login, the token endpoint — counted per username and address in the database every
web process shares; nobody can lock out someone else; every failure is audited, within the
refusal budget. The same limit across several web processes: tests/test_live_sign_in.py."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt

from tests.factories import PASSWORD
from workflow import audit
from workflow.models import AuditEvent
from workflow.services.signin import SIGN_IN_FAILED, SIGN_IN_LOCKED_OUT, UNKNOWN_ACCOUNT_STREAM

LIMIT = 5  # settings.LOGIN_FAILURE_LIMIT
OFFICE = "10.1.2.3"


def page_login(client, username: str, password: str, address: str = OFFICE):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def admin_login(client, username: str, password: str, address: str = OFFICE):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def token_login(client, username: str, password: str, address: str = OFFICE):
    return client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


WAYS_IN = {"page": page_login, "admin": admin_login, "token": token_login}
SIGNED_IN = {"page": 302, "admin": 302, "token": 200}
WRONG = {"page": 200, "admin": 200, "token": 400}


@pytest.mark.parametrize("way", WAYS_IN)
def test_the_limit_th_failure_locks_the_pair_out_even_with_the_right_password(cast, client, way):
    login = WAYS_IN[way]
    for _ in range(LIMIT - 1):
        assert login(client, "admin", "wrong").status_code == WRONG[way]

    assert login(client, "admin", "wrong").status_code == 429
    response = login(client, "admin", PASSWORD)

    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("way", WAYS_IN)
def test_an_overlong_username_is_refused_and_counted_not_a_500(cast, client, way):
    login = WAYS_IN[way]
    client.raise_request_exception = False
    name = "admin" + "长" * 300

    answers = [login(client, name, "wrong").status_code for _ in range(LIMIT)]

    assert answers == [WRONG[way]] * (LIMIT - 1) + [429]


def test_the_admin_login_refuses_sixty_guesses_then_the_real_password(cast, client):
    answers = [admin_login(client, "admin", f"guess{n}").status_code for n in range(60)]

    assert answers.count(200) == LIMIT - 1
    assert admin_login(client, "admin", PASSWORD).status_code == 429


def test_failures_by_every_way_in_count_towards_one_limit(cast, client):
    page_login(client, "auditor", "wrong")
    page_login(client, "auditor", "wrong")
    admin_login(client, "auditor", "wrong")
    token_login(client, "auditor", "wrong")
    token_login(client, "auditor", "wrong")

    for login in WAYS_IN.values():
        assert login(client, "auditor", PASSWORD).status_code == 429


def test_one_accounts_failures_never_block_another_account_at_the_same_address(cast, client):
    for _ in range(LIMIT * 4):
        page_login(client, "org_drafter", "wrong")

    assert page_login(client, "org_reviewer", PASSWORD).status_code == 302


def test_guessing_at_many_usernames_from_one_address_locks_out_nobody(cast, client):
    for attempt in range(LIMIT * 4):
        page_login(client, f"nobody{attempt}", "wrong")

    assert page_login(client, "org_drafter", PASSWORD).status_code == 302


def test_nobody_can_lock_an_account_out_from_another_address(cast, client):
    for _ in range(LIMIT * 4):
        page_login(client, "approver", "wrong", address="203.0.113.9")

    assert page_login(client, "approver", PASSWORD, address=OFFICE).status_code == 302


def test_a_forged_forwarded_for_header_buys_no_fresh_attempts(cast, client):
    for n in range(LIMIT):
        client.post(
            "/accounts/login/",
            {"username": "finance", "password": "wrong"},
            REMOTE_ADDR=OFFICE,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )

    assert page_login(client, "finance", PASSWORD).status_code == 429


def test_a_successful_sign_in_clears_that_pairs_failures(cast, client):
    for _ in range(LIMIT - 1):
        page_login(client, "org_drafter", "wrong")
    assert page_login(client, "org_drafter", PASSWORD).status_code == 302
    client.logout()

    for _ in range(LIMIT - 1):
        page_login(client, "org_drafter", "wrong")

    assert page_login(client, "org_drafter", PASSWORD).status_code == 302


def test_a_lockout_ends_when_its_window_has_passed(cast, client, settings):
    for _ in range(LIMIT):
        page_login(client, "org_drafter", "wrong")
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time
        - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW + 1)
    )

    assert page_login(client, "org_drafter", PASSWORD).status_code == 302


# --- Audited ---------------------------------------------------------------------------------


def sign_in_events(stream: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream=stream).order_by("seq"))


def test_a_failed_sign_in_is_recorded_on_the_accounts_stream(cast, client):
    token_login(client, "org_reviewer", "wrong")

    [event] = sign_in_events(audit.user_stream(cast.org_reviewer.pk))[-1:]
    assert (event.action, event.outcome) == (SIGN_IN_FAILED, "refused")
    assert event.actor_id is None
    assert event.detail == {
        "username": "org_reviewer",
        "address": OFFICE,
        "path": "/api/v1/auth/token/",
        "locked": False,
    }


def test_the_failure_that_locks_and_the_refusals_after_it_are_recorded(cast, client):
    stream = audit.user_stream(cast.org_reviewer.pk)
    before = len(sign_in_events(stream))
    for _ in range(LIMIT + 1):
        admin_login(client, "org_reviewer", "wrong")

    events = sign_in_events(stream)[before:]
    assert [e.action for e in events] == [SIGN_IN_FAILED] * LIMIT + [SIGN_IN_LOCKED_OUT]
    assert [e.detail["locked"] for e in events] == [False] * (LIMIT - 1) + [True, True]


def test_a_failure_naming_no_account_is_recorded_on_the_sign_in_stream(cast, client):
    page_login(client, "nobody", "wrong")

    [event] = sign_in_events(UNKNOWN_ACCOUNT_STREAM)
    assert event.detail["username"] == "nobody"
    assert event.detail["address"] == OFFICE


def test_a_guesser_cannot_grow_the_log_without_bound(cast, client, settings):
    settings.AUDIT_REFUSALS_PER_WINDOW = 10
    stream = audit.user_stream(cast.admin.pk)
    before = len(sign_in_events(stream))

    for n in range(60):
        admin_login(client, "admin", "wrong", address=f"192.0.2.{n}")

    assert len(sign_in_events(stream)) - before == 10
    assert audit.verify().ok
