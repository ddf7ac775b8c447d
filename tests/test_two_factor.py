"""Two-factor sign-in (issue 11): TOTP required for administrators and auditors, optional for
everyone else; a code after the password on the login page, the admin and the token endpoint;
recovery codes usable once; every change and every wrong code audited on the user's stream.

The suite's cast signs in with its password alone, as the demo's does (tests/conftest.py);
here that exemption is off, as in production posture, except where a test turns it on."""

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD, make_user
from workflow import audit
from workflow.models import AuditEvent, Outcome, PasswordRecord
from workflow.services import twofactor as service
from workflow.twofactor import requires_second_factor

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 5  # settings.LOGIN_FAILURE_LIMIT
OFFICE = "10.1.2.3"
ENROL = "/accounts/two-factor/"
VERIFY = "/accounts/two-factor/verify/"


@pytest.fixture(autouse=True)
def production_posture(settings) -> None:
    settings.TWO_FACTOR_EXEMPT_DEMO_USERS = False


def code(device: TOTPDevice, ahead: int = 0) -> str:
    """The code the user's authenticator shows now (or `ahead` steps on: a code not yet used,
    since each step's code is accepted once)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, ahead):06d}"


def wrong_code(device: TOTPDevice) -> str:
    valid = {code(device, ahead) for ahead in (-1, 0, 1, 2)}
    return next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in valid)


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    """Set up an authenticator through the service, as the enrolment page does."""
    pending = service.pending_authenticator(user)
    return service.enable(user=user, code=code(pending))


def events(user, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(stream=audit.user_stream(user.pk), action=action).order_by("seq")
    )


def page_login(client, username: str, password: str = PASSWORD, next_url: str = "/"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password, "next": next_url},
        REMOTE_ADDR=OFFICE,
    )


def second_step(client, typed: str):
    return client.post(VERIFY, {"code": typed}, REMOTE_ADDR=OFFICE)


def token_login(client, username: str, **extra: str):
    return client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": PASSWORD, **extra},
        content_type="application/json",
        REMOTE_ADDR=OFFICE,
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- Who must -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [{"is_staff": True}, {"is_superuser": True}],
    ids=["staff", "superuser"],
)
def test_staff_and_superusers_require_a_second_factor(db, fields):
    assert requires_second_factor(make_user("someone", **fields))


@pytest.mark.parametrize("group", ["auditor", "system_admin", "security_admin", "audit_admin"])
def test_auditors_and_the_three_administrators_require_a_second_factor(db, group):
    user = make_user("someone")
    user.groups.add(Group.objects.get_or_create(name=group)[0])

    assert requires_second_factor(user)


def test_a_drafter_does_not_require_a_second_factor(cast):
    assert not requires_second_factor(cast.org_drafter)


# --- Held at enrolment ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "auditor"])
def test_an_administrator_or_auditor_without_an_authenticator_is_sent_to_enrolment(
    cast, client, who
):
    page_login(client, who)
    assert signed_in(client)

    for path in ("/", "/texts/", "/notifications/", "/admin/", "/audit/"):
        assert client.get(path)["Location"] == ENROL, path
    assert client.get(ENROL).status_code == 200


def test_an_unenrolled_administrator_may_still_sign_out(cast, client):
    client.force_login(cast.admin)

    client.post("/accounts/logout/")

    assert not signed_in(client)


def test_an_unenrolled_administrator_may_switch_the_language_of_the_enrolment_page(cast, client):
    client.force_login(cast.admin)

    response = client.post("/notifications/language/", {"language": "en", "next": ENROL})

    assert response["Location"] == ENROL
    assert '<html lang="en">' in client.get(ENROL).content.decode()


def test_an_unenrolled_administrator_whose_password_expired_changes_it_first(
    cast, client, settings
):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    PasswordRecord.objects.filter(user=cast.admin).update(
        changed_at=timezone.now() - timedelta(days=91)
    )
    client.force_login(cast.admin)

    assert client.get("/texts/")["Location"] == ENROL
    assert client.get(ENROL)["Location"].startswith("/accounts/password/")
    assert client.get("/accounts/password/").status_code == 200


def test_an_unenrolled_administrators_background_poll_gets_nothing(cast, client):
    client.force_login(cast.admin)

    response = client.get("/notifications/bell/", HTTP_HX_REQUEST="true")

    assert response.status_code == 204


def test_an_unenrolled_administrators_session_gets_403_from_the_api(cast, client):
    client.force_login(cast.admin)

    response = client.get("/api/v1/me/")

    assert response.status_code == 403
    assert "/accounts/two-factor/" in response.json()["detail"]


def test_the_enrolment_page_shows_the_secret_and_a_qr_code(cast, client):
    client.force_login(cast.auditor)

    html = client.get(ENROL).content.decode()

    device = TOTPDevice.objects.get(user=cast.auditor, confirmed=False)
    assert "data:image/svg+xml" in html
    assert device.config_url.replace("&", "&amp;") in html


def test_confirming_with_a_code_enables_it_and_shows_ten_recovery_codes_once(cast, client):
    client.force_login(cast.admin)
    client.get(ENROL)
    pending = TOTPDevice.objects.get(user=cast.admin, confirmed=False)

    response = client.post(ENROL, {"action": "enable", "code": code(pending)})

    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10 and all(c in response.content.decode() for c in codes)
    assert TOTPDevice.objects.get(user=cast.admin).confirmed
    assert client.get(ENROL).context["codes"] is None
    assert [e.outcome for e in events(cast.admin, "two_factor_enabled")] == [Outcome.OK]
    assert events(cast.admin, "recovery_codes_generated")[0].detail == {"count": 10}


def test_once_enrolled_the_administrator_reaches_the_site_and_the_admin(cast, client):
    client.force_login(cast.admin)
    client.get(ENROL)
    pending = TOTPDevice.objects.get(user=cast.admin, confirmed=False)
    client.post(ENROL, {"action": "enable", "code": code(pending)})

    assert client.get("/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_a_wrong_confirmation_code_enables_nothing(cast, client):
    client.force_login(cast.admin)
    client.get(ENROL)
    pending = TOTPDevice.objects.get(user=cast.admin, confirmed=False)

    response = client.post(ENROL, {"action": "enable", "code": wrong_code(pending)})

    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(user=cast.admin, confirmed=True).exists()
    assert events(cast.admin, "two_factor_enabled") == []


# --- The code after the password: the login page ----------------------------------------------


def test_with_an_authenticator_the_password_alone_signs_nobody_in(cast, client):
    enrol(cast.admin)

    response = page_login(client, "admin")

    assert response["Location"] == VERIFY
    assert not signed_in(client)
    assert client.get("/").status_code == 200  # the anonymous home page: the login form
    assert "_auth_user_id" not in client.session


def test_the_right_code_after_the_password_signs_in_verified(cast, client):
    device, _codes = enrol(cast.admin)
    page_login(client, "admin", next_url="/texts/")

    response = second_step(client, code(device, ahead=1))

    assert response["Location"] == "/texts/"
    assert signed_in(client)
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused_and_audited(cast, client):
    device, _codes = enrol(cast.admin)
    page_login(client, "admin")

    response = second_step(client, wrong_code(device))

    assert response.status_code == 200
    assert "验证码或恢复码不正确" in response.content.decode()
    assert not signed_in(client)
    [failed] = events(cast.admin, "two_factor_failed")
    assert failed.outcome == Outcome.REFUSED
    assert failed.detail["address"] == OFFICE and failed.detail["missing"] is False
    # One event for it, not a second one as a wrong password.
    assert events(cast.admin, "sign_in_failed") == []


def test_wrong_codes_count_towards_the_sign_in_throttle(cast, client):
    device, _codes = enrol(cast.admin)
    page_login(client, "admin")

    answers = [second_step(client, wrong_code(device)).status_code for _ in range(LIMIT)]

    assert answers == [200] * (LIMIT - 1) + [429]
    assert second_step(client, code(device, ahead=1)).status_code == 429
    assert not signed_in(client)


def test_a_recovery_code_signs_in_once(cast, client):
    _device, codes = enrol(cast.admin)
    page_login(client, "admin")

    assert second_step(client, codes[0].upper())["Location"] == "/"
    assert signed_in(client)
    [used] = events(cast.admin, "recovery_code_used")
    assert used.detail == {"remaining": 9}

    client.logout()
    page_login(client, "admin")
    assert second_step(client, codes[0]).status_code == 200
    assert not signed_in(client)


def test_regenerating_recovery_codes_retires_the_old_ones(cast, client):
    device, old = enrol(cast.admin)
    page_login(client, "admin")
    second_step(client, code(device, ahead=1))

    new = client.post(ENROL, {"action": "regenerate"}).context["codes"]

    assert set(new).isdisjoint(old)
    assert service.verify_code(user=cast.admin, code=new[1]) is not None
    assert service.verify_code(user=cast.admin, code=old[1]) is None
    assert len(events(cast.admin, "recovery_codes_generated")) == 2


def test_regenerating_recovery_codes_without_an_authenticator_is_refused(cast, client):
    client.force_login(cast.org_drafter)

    response = client.post(ENROL, {"action": "regenerate"})

    assert response.status_code == 400
    assert events(cast.org_drafter, "recovery_codes_generated") == []


def test_the_second_step_without_a_password_first_sends_to_the_login_page(cast, client):
    response = client.post(VERIFY, {"code": "123456"})

    assert response["Location"] == "/accounts/login/"
    assert not signed_in(client)


def test_the_second_step_expires(cast, client, settings):
    device, _codes = enrol(cast.admin)
    page_login(client, "admin")
    settings.TWO_FACTOR_PENDING_SECONDS = 0

    response = second_step(client, code(device, ahead=1))

    assert response["Location"] == "/accounts/login/"
    assert not signed_in(client)


# --- The admin site ---------------------------------------------------------------------------


def test_the_admin_login_asks_for_the_code_too(cast, client):
    device, _codes = enrol(cast.admin)

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "admin", "password": PASSWORD}
    )

    assert response["Location"] == VERIFY
    assert not signed_in(client)
    assert second_step(client, code(device, ahead=1))["Location"] == "/admin/"


def test_the_admin_refuses_a_session_that_gave_no_code(cast, client):
    enrol(cast.admin)
    client.force_login(cast.admin)  # signed in without the second step

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not signed_in(client)


def test_the_admin_site_counts_an_unverified_enrolled_user_as_not_staff(cast, rf):
    from django.contrib import admin

    enrol(cast.admin)
    request = rf.get("/admin/")
    request.user = cast.admin
    cast.admin.otp_device = None

    assert not admin.site.has_permission(request)


# --- The token endpoint -----------------------------------------------------------------------


def test_the_token_endpoint_wants_the_code_as_otp(cast, client):
    device, _codes = enrol(cast.auditor)

    missing = token_login(client, "auditor")
    right = token_login(client, "auditor", otp=code(device, ahead=1))

    assert missing.status_code == 400 and "otp" in missing.json()
    assert right.status_code == 200 and right.json()["token"]
    assert events(cast.auditor, "two_factor_failed")[0].detail["missing"] is True


def test_the_token_endpoint_refuses_a_wrong_code_and_audits_it(cast, client):
    device, _codes = enrol(cast.auditor)

    response = token_login(client, "auditor", otp=wrong_code(device))

    assert response.status_code == 400
    assert list(response.json()) == ["otp"]
    assert events(cast.auditor, "two_factor_failed")[0].outcome == Outcome.REFUSED


def test_the_token_endpoint_takes_a_recovery_code(cast, client):
    _device, codes = enrol(cast.auditor)

    assert token_login(client, "auditor", otp=codes[3]).status_code == 200
    assert token_login(client, "auditor", otp=codes[3]).status_code == 400


def test_wrong_codes_at_the_token_endpoint_count_towards_the_throttle(cast, client):
    device, _codes = enrol(cast.auditor)

    answers = [token_login(client, "auditor").status_code for _ in range(LIMIT)]

    assert answers == [400] * (LIMIT - 1) + [429]
    assert token_login(client, "auditor", otp=code(device, ahead=1)).status_code == 429


def test_the_token_endpoint_gives_no_token_to_an_auditor_who_has_not_enrolled(cast, client):
    response = token_login(client, "auditor")

    assert response.status_code == 400
    assert "/accounts/two-factor/" in response.json()["otp"][0]


def test_the_token_endpoint_needs_no_code_from_a_drafter_without_an_authenticator(cast, client):
    assert token_login(client, "org_drafter").status_code == 200


# --- Optional for everyone else --------------------------------------------------------------


def test_a_drafter_signs_in_with_the_password_alone(cast, client):
    page_login(client, "org_drafter")

    assert signed_in(client)
    assert client.get("/texts/").status_code == 200


def test_a_drafter_who_enrolled_is_asked_for_the_code_too(cast, client):
    enrol(cast.org_drafter)

    assert page_login(client, "org_drafter")["Location"] == VERIFY
    assert not signed_in(client)


def test_a_drafter_may_turn_it_off(cast, client):
    device, _codes = enrol(cast.org_drafter)
    page_login(client, "org_drafter")
    second_step(client, code(device, ahead=1))

    response = client.post(ENROL, {"action": "disable"})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=cast.org_drafter).exists()
    assert len(events(cast.org_drafter, "two_factor_disabled")) == 1
    client.logout()
    page_login(client, "org_drafter")
    assert signed_in(client)


def test_an_administrator_may_not_turn_it_off(cast, client):
    device, _codes = enrol(cast.admin)
    page_login(client, "admin")
    second_step(client, code(device, ahead=1))

    response = client.post(ENROL, {"action": "disable"})

    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=cast.admin, confirmed=True).exists()
    [refused] = events(cast.admin, "two_factor_disabled")
    assert refused.outcome == Outcome.REFUSED


# --- The demo's exemption ---------------------------------------------------------------------


def test_with_the_demo_exemption_the_demo_admin_signs_in_with_the_password_alone(
    cast, client, settings
):
    settings.TWO_FACTOR_EXEMPT_DEMO_USERS = True

    page_login(client, "admin")

    assert client.get("/admin/").status_code == 200
    assert token_login(client, "admin").status_code == 200


def test_the_demo_exemption_covers_only_seed_demos_users(db, settings):
    settings.TWO_FACTOR_EXEMPT_DEMO_USERS = True

    assert not requires_second_factor(make_user("admin", is_staff=True, is_superuser=True))
    assert requires_second_factor(make_user("operator", is_staff=True))


def exemption_setting(**environ: str) -> str:
    """TWO_FACTOR_EXEMPT_DEMO_USERS as settings make it from this environment."""
    env = {"PATH": os.environ["PATH"], "SECRET_KEY": "x" * 50, **environ}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    script = "from django.conf import settings; print(settings.TWO_FACTOR_EXEMPT_DEMO_USERS)"
    result = subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_demo_exemption_is_honoured_only_in_demo_mode():
    assert exemption_setting(TWO_FACTOR_EXEMPT_DEMO_USERS="1", DEMO_MODE="1") == "True"
    assert exemption_setting(TWO_FACTOR_EXEMPT_DEMO_USERS="1") == "False"
    assert exemption_setting(TWO_FACTOR_EXEMPT_DEMO_USERS="1", DEBUG="1") == "False"
    assert exemption_setting(DEMO_MODE="1", TWO_FACTOR_EXEMPT_DEMO_USERS="0") == "False"


# --- A lost phone ----------------------------------------------------------------------------


def test_reset_two_factor_removes_the_authenticator_and_is_audited(cast, client):
    enrol(cast.admin)

    call_command("reset_two_factor", "admin", stdout=StringIO())

    assert not TOTPDevice.objects.filter(user=cast.admin).exists()
    [reset] = events(cast.admin, "two_factor_disabled")
    assert (reset.outcome, reset.actor_id) == (Outcome.OK, None)
    page_login(client, "admin")
    assert client.get("/")["Location"] == ENROL


def test_reset_two_factor_names_an_unknown_user(db):
    with pytest.raises(CommandError, match="unknown user: nobody"):
        call_command("reset_two_factor", "nobody")
