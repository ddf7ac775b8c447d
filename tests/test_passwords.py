"""Passwords (issue 11): length and character classes, no reuse of the last five, expiry
(off by default), the change page and `POST /api/v1/me/password/`, every change an event on
the user's stream, the admin's changes too; all in Django's validator framework."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from tests.factories import PASSWORD, make_user
from workflow import audit, services
from workflow.exceptions import NotPermitted
from workflow.models import AuditEvent, Outcome, PasswordRecord
from workflow.passwords import character_classes

User = get_user_model()
ADDRESS = "10.20.30.40"
# Five distinct passwords that pass every rule.
NEW = ["Budget-2026a", "Budget-2026b", "Budget-2026c", "Budget-2026d", "Budget-2026e"]


def fresh(user):
    return User.objects.get(pk=user.pk)


def change_by_api(api, user, old: str, new: str):
    return api(user).post(
        "/api/v1/me/password/",
        {"old_password": old, "new_password": new},
        format="json",
        REMOTE_ADDR=ADDRESS,
    )


def change_by_page(client, old: str, new: str, again: str | None = None, **extra):
    return client.post(
        "/accounts/password/",
        {"old_password": old, "new_password": new, "new_password_again": again or new, **extra},
        REMOTE_ADDR=ADDRESS,
    )


def password_events(user, outcome: str = Outcome.OK) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            stream=audit.user_stream(user.pk), action="password_changed", outcome=outcome
        ).order_by("seq")
    )


def change_through(user, passwords: list[str]) -> None:
    old = PASSWORD
    for new in passwords:
        services.change_password(user=fresh(user), old=old, new=new, address=ADDRESS)
        old = new


def age_password(user, days: int) -> None:
    PasswordRecord.objects.filter(user=user).update(changed_at=timezone.now() - timedelta(days))


@pytest.fixture
def user(db):
    return make_user("alice")


@pytest.fixture
def expiry(settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90


# --- length and character classes -----------------------------------------------------------


def test_a_password_shorter_than_the_minimum_is_refused_naming_the_length(api, user):
    response = change_by_api(api, user, PASSWORD, "Ab-1234")

    assert response.status_code == 400
    assert response.json() == {"new_password": ["密码太短：至少需要 10 个字符。"]}


def test_a_password_of_too_few_character_classes_is_refused_naming_the_classes(api, user):
    response = change_by_api(api, user, PASSWORD, "onlylowercaseletters")

    assert response.status_code == 400
    [message] = response.json()["new_password"]
    assert "小写字母、大写字母、数字、符号四类中至少要有 3 类" in message


def test_the_length_and_the_classes_are_settings(settings, user):
    settings.PASSWORD_MIN_LENGTH = 16
    settings.PASSWORD_MIN_CLASSES = 4

    with pytest.raises(ValidationError) as refused:
        validate_password("budget-2026a", user)  # 12 characters, 3 classes

    assert refused.value.messages == [
        "密码太短：至少需要 16 个字符。",
        "密码的字符种类太少：小写字母、大写字母、数字、符号四类中至少要有 4 类。",
    ]


@pytest.mark.parametrize(
    ("password", "classes"),
    [("abc", 1), ("abcD", 2), ("abcD1", 3), ("abcD1-", 4), ("预算abc1", 3), ("a b", 2)],
)
def test_a_symbol_is_any_character_that_is_no_letter_of_a_case_nor_a_digit(password, classes):
    assert character_classes(password) == classes


def test_the_rules_are_told_in_the_help_texts(user):
    texts = password_validators_help_texts()

    assert "密码至少 10 个字符，且包含小写字母、大写字母、数字、符号四类中的至少 3 类。" in texts
    assert "不能与最近 5 次用过的密码相同。" in texts


def test_the_demo_password_passes_every_rule(user):
    assert validate_password("demo-pass-2025", user) is None


def test_seed_demo_users_still_sign_in_with_the_demo_password(db, settings, client, tmp_path):
    settings.DEMO_MODE = True
    settings.DEMO_TEXTS = tmp_path / "none.txt"  # the texts are not what this is about

    call_command("seed_demo", stdout=None, stderr=None)

    signed_in = client.post("/accounts/login/", {"username": "admin", "password": "demo-pass-2025"})

    assert signed_in.status_code == 302
    assert PasswordRecord.objects.filter(user__username="admin").count() == 1


# --- history ---------------------------------------------------------------------------------


@pytest.mark.parametrize("back", range(1, 6))
def test_none_of_the_last_five_passwords_may_be_chosen_again(api, user, back):
    change_through(user, NEW)

    response = change_by_api(api, fresh(user), NEW[-1], NEW[-back])

    assert response.status_code == 400
    assert response.json() == {"new_password": ["不能使用最近 5 次用过的密码，请换一个新密码。"]}
    assert fresh(user).check_password(NEW[-1])


def test_the_sixth_last_password_may_be_chosen_again(api, user):
    change_through(user, NEW)  # PASSWORD is now the sixth-last

    response = change_by_api(api, fresh(user), NEW[-1], PASSWORD)

    assert response.status_code == 200
    assert fresh(user).check_password(PASSWORD)


def test_only_as_many_old_hashes_are_kept_as_the_rule_needs(user):
    change_through(user, NEW)

    assert PasswordRecord.objects.filter(user=user).count() == 5


def test_the_history_length_is_a_setting(settings, user):
    settings.PASSWORD_HISTORY = 2
    change_through(user, NEW[:3])

    validate_password(NEW[0], fresh(user))  # third-last: allowed again
    with pytest.raises(ValidationError, match="最近 2 次"):
        validate_password(NEW[1], fresh(user))


def test_an_account_without_history_may_not_keep_its_current_password(user):
    PasswordRecord.objects.filter(user=user).delete()  # set before the history was kept

    with pytest.raises(ValidationError, match="最近 5 次"):
        validate_password(PASSWORD, user)


def test_a_password_saved_by_set_password_is_remembered(user):
    user.set_password(NEW[0])
    user.save()

    assert PasswordRecord.objects.filter(user=user).first().password == user.password


# --- expiry ----------------------------------------------------------------------------------


def test_expiry_is_off_by_default(settings, client, api, user):
    assert settings.PASSWORD_MAX_AGE_DAYS == 0
    age_password(user, 3650)
    client.force_login(user)

    assert client.get("/").status_code == 200
    assert api(user).get("/api/v1/me/").status_code == 200


def test_an_expired_password_leads_every_page_to_the_change_page(expiry, client, user):
    age_password(user, 91)
    client.force_login(user)

    response = client.get("/texts/?state=draft")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/?next=%2Ftexts%2F%3Fstate%3Ddraft"


def test_the_change_page_says_why_the_user_was_sent_there(expiry, client, user):
    age_password(user, 91)
    client.force_login(user)

    response = client.get("/accounts/password/?next=/texts/")

    assert response.status_code == 200
    assert "您的密码已超过 90 天未修改，已经过期" in response.content.decode()


def test_an_expired_password_leads_the_admin_to_the_change_page_too(expiry, client, cast):
    age_password(cast.admin, 91)
    client.force_login(cast.admin)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/password/")


def test_a_fragment_asked_for_with_an_expired_password_moves_the_whole_page(expiry, client, user):
    age_password(user, 91)
    client.force_login(user)

    response = client.get("/texts/amount-in-words/?amount=1", HTTP_HX_REQUEST="true")

    assert response["HX-Redirect"] == "/accounts/password/"


def test_the_bells_poll_does_not_reload_the_change_page(expiry, client, user):
    age_password(user, 91)
    client.force_login(user)

    response = client.get("/notifications/bell/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "HX-Redirect" not in response


def test_signing_out_stays_open_with_an_expired_password(expiry, client, user):
    age_password(user, 91)
    client.force_login(user)

    client.post("/accounts/logout/")

    assert "_auth_user_id" not in client.session


def test_an_account_without_history_expires_from_when_it_joined(expiry, api, db):
    made = User.objects.create_user("bob", password=PASSWORD)  # as createsuperuser does
    User.objects.filter(pk=made.pk).update(date_joined=timezone.now() - timedelta(days=91))

    assert not PasswordRecord.objects.filter(user=made).exists()
    assert api(fresh(made)).get("/api/v1/me/").status_code == 403


def test_a_password_younger_than_the_limit_has_not_expired(expiry, client, api, user):
    age_password(user, 89)
    client.force_login(user)

    assert client.get("/").status_code == 200
    assert api(user).get("/api/v1/me/").status_code == 200


def test_an_expired_password_makes_the_api_answer_403_naming_it(expiry, api, user):
    age_password(user, 91)

    response = api(user).get("/api/v1/texts/")

    assert response.status_code == 403
    assert response.json()["code"] == "password_expired"
    assert "已经过期" in response.json()["detail"]


def test_a_token_issued_for_an_expired_password_can_only_change_it(expiry, client, user):
    age_password(user, 91)
    issued = client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": PASSWORD},
        content_type="application/json",
    )
    headers = {"HTTP_AUTHORIZATION": f"Token {issued.json()['token']}"}

    refused = client.get("/api/v1/me/", **headers)
    changed = client.post(
        "/api/v1/me/password/",
        {"old_password": PASSWORD, "new_password": NEW[0]},
        content_type="application/json",
        **headers,
    )

    assert refused.status_code == 403
    assert refused.json()["code"] == "password_expired"
    assert changed.status_code == 200


def test_changing_an_expired_password_opens_the_pages_and_the_api_again(expiry, client, api, user):
    age_password(user, 91)
    client.force_login(user)

    response = change_by_page(client, PASSWORD, NEW[0], next="/texts/")

    assert response.status_code == 303
    assert response["Location"] == "/texts/"
    assert client.get("/texts/").status_code == 200
    assert api(fresh(user)).get("/api/v1/me/").status_code == 200


# --- the change page and the API ------------------------------------------------------------


def test_the_change_page_changes_the_password_and_keeps_the_user_signed_in(client, user):
    client.force_login(user)

    response = change_by_page(client, PASSWORD, NEW[0])

    assert response.status_code == 303
    assert response["Location"] == "/"
    assert fresh(user).check_password(NEW[0])
    home = client.get("/")
    assert home.status_code == 200
    assert "密码已修改。" in home.content.decode()


def test_the_change_page_shows_the_rules(client, user):
    client.force_login(user)

    page = client.get("/accounts/password/").content.decode()

    assert 'autocomplete="current-password"' in page
    assert "密码至少 10 个字符" in page
    assert "不能与最近 5 次用过的密码相同。" in page


def test_the_change_page_names_two_new_passwords_that_differ_and_changes_nothing(client, user):
    client.force_login(user)

    response = change_by_page(client, PASSWORD, NEW[0], again=NEW[1])

    assert response.status_code == 400
    assert "两次输入的新密码不一致。" in response.content.decode()
    assert fresh(user).check_password(PASSWORD)


def test_the_change_page_names_a_broken_rule_beside_the_field(client, user):
    client.force_login(user)

    response = change_by_page(client, PASSWORD, "short")

    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="error-new_password"' in page
    assert "密码太短：至少需要 10 个字符。" in page


def test_the_change_page_goes_back_to_no_other_site(client, user):
    client.force_login(user)

    response = change_by_page(client, PASSWORD, NEW[0], next="https://evil.example/")

    assert response["Location"] == "/"


def test_the_change_page_asks_a_visitor_to_sign_in(client, db):
    response = client.get("/accounts/password/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_header_links_to_the_change_page_beside_the_username(client, user):
    client.force_login(user)

    page = client.get("/").content.decode()

    assert '<span class="who">alice</span>' in page
    assert 'href="/accounts/password/">修改密码</a>' in page


def test_the_api_changes_the_password(api, user):
    response = change_by_api(api, user, PASSWORD, NEW[0])

    assert response.status_code == 200
    assert response.json() == {"detail": "密码已修改。"}
    assert fresh(user).check_password(NEW[0])


def test_a_change_through_the_api_keeps_the_browsers_session(client, user):
    client.force_login(user)

    client.post(
        "/api/v1/me/password/",
        {"old_password": PASSWORD, "new_password": NEW[0]},
        content_type="application/json",
    )

    assert client.get("/api/v1/me/").status_code == 200


def test_a_missing_field_is_a_400_naming_it(api, user):
    response = api(user).post("/api/v1/me/password/", {"old_password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["new_password"]


def test_a_change_by_a_visitor_is_a_401(api, db):
    response = api().post(
        "/api/v1/me/password/", {"old_password": "x", "new_password": NEW[0]}, format="json"
    )

    assert response.status_code == 401


# --- the audit log ---------------------------------------------------------------------------


def test_a_change_is_an_event_on_the_users_stream_with_the_address(api, user):
    change_by_api(api, user, PASSWORD, NEW[0])

    [event] = password_events(user)
    assert (event.actor_name, event.detail["address"]) == ("alice", ADDRESS)
    assert event.detail["user"] == "alice"
    assert audit.verify().ok


def test_the_auditor_finds_password_changes_by_their_action(api, cast, user):
    change_by_api(api, user, PASSWORD, NEW[0])

    found = api(cast.auditor).get("/api/v1/audit/events/?action=password_changed").json()

    assert [event["actor"] for event in found["results"]] == ["alice"]


def test_a_change_refused_by_a_rule_writes_nothing(api, user):
    records = list(PasswordRecord.objects.filter(user=user).values_list("password", flat=True))

    change_by_api(api, user, PASSWORD, "short")

    assert password_events(user) == []
    assert list(PasswordRecord.objects.filter(user=user).values_list("password", flat=True)) == (
        records
    )


def test_a_wrong_old_password_is_a_400_naming_it_and_changes_nothing(api, user):
    records = PasswordRecord.objects.filter(user=user).count()

    response = change_by_api(api, user, "not-my-password", NEW[0])

    assert response.status_code == 400
    assert response.json() == {"old_password": ["原密码不正确。"]}
    assert fresh(user).check_password(PASSWORD)
    assert PasswordRecord.objects.filter(user=user).count() == records
    assert password_events(user) == []


def test_a_wrong_old_password_is_recorded_as_a_refused_attempt(api, user):
    change_by_api(api, user, "not-my-password", NEW[0])

    [refused] = password_events(user, Outcome.REFUSED)
    assert refused.detail["address"] == ADDRESS
    assert refused.detail["refusal"] == "wrong_old_password"
    assert audit.verify().ok


# --- the admin -------------------------------------------------------------------------------


def admin_sets(client, user, password: str, **extra):
    return client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": password, "password2": password, "usable_password": "true", **extra},
        REMOTE_ADDR=ADDRESS,
    )


def test_a_password_set_in_the_admin_is_recorded_with_history_and_event(client, cast, user):
    client.force_login(cast.admin)

    response = admin_sets(client, user, NEW[0], **{"set-password": "1"})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert fresh(user).check_password(NEW[0])
    assert PasswordRecord.objects.filter(user=user).first().password == fresh(user).password
    [event] = password_events(user)
    assert (event.actor_name, event.detail["address"]) == ("admin", ADDRESS)
    assert audit.verify().ok


def test_the_admin_refuses_a_password_that_breaks_a_rule(client, cast, user):
    client.force_login(cast.admin)

    response = admin_sets(client, user, "short", **{"set-password": "1"})

    assert response.status_code == 200
    assert "密码太短" in response.content.decode()
    assert fresh(user).check_password(PASSWORD)
    assert password_events(user) == []


def test_a_new_account_made_in_the_admin_starts_its_history(client, cast):
    client.force_login(cast.admin)

    client.post(
        "/admin/auth/user/add/",
        {"username": "newcomer", "password1": NEW[0], "password2": NEW[0]},
    )

    newcomer = User.objects.get(username="newcomer")
    assert PasswordRecord.objects.filter(user=newcomer).first().password == newcomer.password


def test_a_new_account_made_in_the_admin_must_pass_the_rules(client, cast):
    client.force_login(cast.admin)

    response = client.post(
        "/admin/auth/user/add/", {"username": "newcomer", "password1": "a", "password2": "a"}
    )

    assert "密码太短" in response.content.decode()
    assert not User.objects.filter(username="newcomer").exists()


def test_switching_password_sign_in_off_in_the_admin_is_recorded(client, cast, user):
    client.force_login(cast.admin)

    client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"usable_password": "false", "unset-password": "1"},
        REMOTE_ADDR=ADDRESS,
    )

    assert not fresh(user).has_usable_password()
    [event] = password_events(user)
    assert event.detail["usable"] is False


def test_only_an_administrator_sets_anothers_password_and_a_refusal_is_recorded(cast, user):
    with pytest.raises(NotPermitted):
        services.reset_password(actor=cast.org_drafter, user=user, new=NEW[0], address=ADDRESS)

    assert fresh(user).check_password(PASSWORD)
    [refused] = password_events(user, Outcome.REFUSED)
    assert refused.actor_name == "org_drafter"


def test_the_admins_own_password_change_is_the_audited_page(client, cast):
    client.force_login(cast.admin)

    response = client.get("/admin/password_change/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/"
