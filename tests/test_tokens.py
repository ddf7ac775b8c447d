"""Scripts' access tokens (issue 11, third point): each call of the token endpoint issues a
new token, stored hashed; a token ends after TOKEN_IDLE_WORKING_HOURS of working time unused
or TOKEN_MAX_AGE_DAYS after it was issued; its owner lists and revokes it, an administrator
revokes anyone's in the admin, deactivating an account revokes all of its tokens; each
revocation is audited. A token that no longer counts gets 401 with WWW-Authenticate.

Time is moved by setting the tokens' own timestamps, never by sleeping."""

import hashlib
import importlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import PASSWORD, issue_token, with_token
from workflow import audit, services, tokens
from workflow.clock import add_working_hours
from workflow.models import AccessToken, AuditEvent

API = "/api/v1"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def me(key: str):
    return with_token(key).get(f"{API}/me/")


def token_of(key: str) -> AccessToken:
    return AccessToken.objects.get(key_hash=hashlib.sha256(key.encode()).hexdigest())


def revocations(user) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(stream=audit.user_stream(user.pk), action="token_revoked")
    )


def assert_refused_401(response, words: str) -> None:
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert words in response.json()["detail"]


# --- issued ----------------------------------------------------------------------------------


def test_each_call_issues_a_new_token_and_each_works(cast):
    first, second = issue_token(), issue_token()

    assert first != second
    assert me(first).json()["username"] == me(second).json()["username"] == "org_drafter"


def test_only_the_keys_hash_and_first_characters_are_stored(cast):
    key = issue_token(HTTP_USER_AGENT="nightly-export/1.0")

    token = AccessToken.objects.get()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:8]
    assert key not in {token.key_hash, token.prefix, token.label}
    assert token.label == "nightly-export/1.0"


def test_a_user_agent_with_control_characters_is_stored_without_them(cast):
    issue_token(HTTP_USER_AGENT="bad\x00agent\x1b")

    assert AccessToken.objects.get().label == "badagent"


def test_an_unknown_key_gets_401_naming_the_scheme(cast):
    assert_refused_401(me("x" * 43), "无效")


# --- expiry ----------------------------------------------------------------------------------


def test_a_token_unused_for_more_than_its_idle_working_hours_gets_401(cast):
    key = issue_token()
    # Nine calendar days hold at least five working days, whatever today is.
    AccessToken.objects.update(last_used_at=timezone.now() - timedelta(days=9))

    assert_refused_401(me(key), "过期")


def test_a_token_used_just_now_still_counts(cast):
    key = issue_token()
    AccessToken.objects.update(created_at=timezone.now() - timedelta(days=29))

    assert me(key).status_code == 200


def test_a_token_older_than_its_maximum_age_gets_401_however_recently_used(cast):
    key = issue_token()
    AccessToken.objects.update(created_at=timezone.now() - timedelta(days=30, seconds=1))

    assert_refused_401(me(key), "过期")


def test_idle_time_counts_working_hours_only(cast):
    issue_token()
    token = AccessToken.objects.get()
    token.created_at = datetime(2026, 12, 4, 9, 0, tzinfo=SHANGHAI)
    token.last_used_at = datetime(2026, 12, 4, 16, 0, tzinfo=SHANGHAI)  # a Friday

    monday = datetime(2026, 12, 7, 15, 59, tzinfo=SHANGHAI)
    assert tokens.status(token, monday) == tokens.ACTIVE
    assert tokens.status(token, monday + timedelta(minutes=1)) == tokens.EXPIRED


def test_the_limits_are_settings(cast, settings):
    settings.TOKEN_IDLE_WORKING_HOURS = 0
    settings.TOKEN_MAX_AGE_DAYS = 365
    key = issue_token()
    AccessToken.objects.update(
        last_used_at=timezone.now() - timedelta(days=60),
        created_at=timezone.now() - timedelta(days=60),
    )

    assert me(key).status_code == 200


@pytest.mark.parametrize(
    ("start", "hours", "end"),
    [
        ((2026, 12, 4, 16, 0), 8, (2026, 12, 7, 16, 0)),  # Friday afternoon to Monday
        ((2026, 12, 4, 20, 0), 8, (2026, 12, 7, 17, 0)),  # after hours: from Monday's opening
        ((2026, 12, 5, 3, 0), 0.5, (2026, 12, 7, 9, 30)),  # Saturday night
        ((2026, 12, 8, 10, 30), 16, (2026, 12, 10, 10, 30)),  # two working days
    ],
)
def test_working_hours_are_monday_to_friday_nine_to_five(start, hours, end):
    at = datetime(*start, tzinfo=SHANGHAI)

    assert add_working_hours(at, hours) == datetime(*end, tzinfo=SHANGHAI)


# --- one query, one write a minute -----------------------------------------------------------


def test_the_last_use_is_written_at_most_once_a_minute(cast):
    key = issue_token()
    recent = timezone.now() - timedelta(seconds=30)
    AccessToken.objects.update(last_used_at=recent)

    me(key)
    assert token_of(key).last_used_at == recent

    AccessToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    me(key)
    assert timezone.now() - token_of(key).last_used_at < timedelta(seconds=5)


def test_checking_a_token_costs_one_query(cast, api):
    key = issue_token()

    with CaptureQueriesContext(connection) as by_token:
        assert me(key).status_code == 200
    with CaptureQueriesContext(connection) as already_known:
        assert api(cast.org_drafter).get(f"{API}/me/").status_code == 200

    assert len(by_token) == len(already_known) + 1


# --- listed and revoked by the owner ---------------------------------------------------------


def test_the_owner_lists_their_live_tokens_without_keys(cast):
    used, other = issue_token(), issue_token()
    revoked = issue_token()
    services.revoke_token(actor=cast.org_drafter, token_id=token_of(revoked).pk)
    expired = issue_token()
    AccessToken.objects.filter(pk=token_of(expired).pk).update(
        last_used_at=timezone.now() - timedelta(days=9)
    )
    issue_token("org_reviewer")

    body = with_token(used).get(f"{API}/auth/tokens/").json()

    assert [t["prefix"] for t in body["results"]] == [other[:8], used[:8]]
    assert [t["current"] for t in body["results"]] == [False, True]
    assert used not in str(body) and other not in str(body)
    assert body["results"][0]["expires_at"]


def test_the_owner_revokes_a_token_and_it_stops_working(cast):
    kept, doomed = issue_token(), issue_token()

    response = with_token(kept).delete(f"{API}/auth/tokens/{token_of(doomed).pk}/")

    assert response.status_code == 204
    assert_refused_401(me(doomed), "撤销")
    assert me(kept).status_code == 200
    [event] = revocations(cast.org_drafter)
    assert event.actor_id == cast.org_drafter.pk
    assert event.detail == {"token": token_of(doomed).pk, "prefix": doomed[:8], "reason": "owner"}


def test_nobody_revokes_someone_elses_token(cast):
    theirs = issue_token("org_reviewer")

    response = with_token(issue_token()).delete(f"{API}/auth/tokens/{token_of(theirs).pk}/")

    assert response.status_code == 404
    assert me(theirs).status_code == 200
    assert revocations(cast.org_reviewer) == []


def test_revoking_a_revoked_token_is_409(cast):
    key = issue_token()
    doomed = token_of(issue_token())
    services.revoke_token(actor=cast.org_drafter, token_id=doomed.pk)

    response = with_token(key).delete(f"{API}/auth/tokens/{doomed.pk}/")

    assert response.status_code == 409
    assert len(revocations(cast.org_drafter)) == 1


def test_an_unknown_token_id_is_404(cast):
    assert with_token(issue_token()).delete(f"{API}/auth/tokens/99999/").status_code == 404


# --- by an administrator, by deactivation ----------------------------------------------------


def test_an_administrator_lists_and_revokes_tokens_in_the_admin(cast, client):
    key = issue_token()
    token = token_of(key)
    client.force_login(cast.admin)

    listing = client.get("/admin/workflow/accesstoken/")
    response = client.post(
        "/admin/workflow/accesstoken/",
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )

    assert listing.status_code == 200
    assert key[:8] in listing.content.decode()
    assert token.key_hash not in listing.content.decode()
    assert response.status_code == 302
    assert_refused_401(me(key), "撤销")
    [event] = revocations(cast.org_drafter)
    assert (event.actor_id, event.detail["reason"]) == (cast.admin.pk, "administrator")


def test_deactivating_an_account_revokes_all_its_tokens(cast):
    keys = [issue_token(), issue_token()]
    issue_token("org_reviewer")

    services.change_account(
        actor=cast.admin, user_id=cast.org_drafter.pk, changes={"is_active": False}
    )

    assert AccessToken.objects.filter(user=cast.org_drafter, revoked_at=None).count() == 0
    assert AccessToken.objects.filter(user=cast.org_reviewer, revoked_at=None).count() == 1
    assert [e.detail["reason"] for e in revocations(cast.org_drafter)] == [
        "account_deactivated"
    ] * 2
    for key in keys:
        assert me(key).status_code == 401


def test_changing_ones_password_revokes_all_ones_tokens(cast):
    keys = [issue_token(), issue_token()]
    issue_token("org_reviewer")

    services.change_password(
        user=cast.org_drafter, old=PASSWORD, new="Another-pass-2026", address="10.0.0.9"
    )

    assert AccessToken.objects.filter(user=cast.org_drafter, revoked_at=None).count() == 0
    assert AccessToken.objects.filter(user=cast.org_reviewer, revoked_at=None).count() == 1
    assert [e.detail["reason"] for e in revocations(cast.org_drafter)] == ["password_changed"] * 2
    for key in keys:
        assert me(key).status_code == 401


def test_an_administrator_setting_a_password_revokes_that_accounts_tokens(cast):
    key = issue_token()

    services.reset_password(
        actor=cast.admin, user=cast.org_drafter, new="Another-pass-2026", address="10.0.0.9"
    )

    assert me(key).status_code == 401
    assert [e.detail["reason"] for e in revocations(cast.org_drafter)] == ["password_changed"]


def test_revoke_user_tokens_names_its_reason_and_counts(cast):
    issue_token(), issue_token()

    revoked = services.revoke_user_tokens(
        cast.org_drafter, actor=cast.org_drafter, reason="password_changed"
    )

    assert revoked == 2
    assert {e.detail["reason"] for e in revocations(cast.org_drafter)} == {"password_changed"}


def test_issues_and_revocations_keep_the_chain_verifying(cast):
    issue_token()
    issue_token()
    services.change_account(
        actor=cast.admin, user_id=cast.org_drafter.pk, changes={"is_active": False}
    )

    assert audit.verify().ok


def test_the_audit_page_says_why_a_token_was_revoked(cast, client):
    key = issue_token()
    services.revoke_token(actor=cast.org_drafter, token_id=token_of(key).pk)
    client.force_login(cast.auditor)

    page = client.get("/audit/", {"action": "token_revoked"}).content.decode()

    assert "原因：本人撤销" in page
    assert f"令牌：{key[:8]}…" in page


# --- DRF's old tokens ------------------------------------------------------------------------


class StandIn:
    """What the migration's function uses of a schema editor."""

    def __init__(self) -> None:
        self.connection = connection

    def execute(self, sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)


def test_drfs_old_tokens_are_carried_over_hashed_and_its_table_dropped(cast):
    from django.apps import apps

    migration = importlib.import_module("workflow.migrations.0012_carry_over_drf_tokens")
    old = "0123456789abcdef0123456789abcdef01234567"
    issued = timezone.now() - timedelta(days=3)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp "
            "with time zone NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)", [old, issued, cast.approver.pk]
        )

    migration.carry_over(apps, StandIn())

    assert "authtoken_token" not in connection.introspection.table_names()
    token = token_of(old)
    assert (token.user_id, token.prefix) == (cast.approver.pk, old[:8])
    assert abs(token.created_at - issued) < timedelta(seconds=1)
    assert me(old).json()["username"] == "approver"


# --- the page --------------------------------------------------------------------------------


def test_the_tokens_page_lists_ones_own_live_tokens(cast, client):
    mine = issue_token(HTTP_USER_AGENT="nightly-export/1.0")
    theirs = issue_token("org_reviewer")
    client.force_login(cast.org_drafter)

    page = client.get("/accounts/tokens/").content.decode()

    assert f"{mine[:8]}…" in page and "nightly-export/1.0" in page
    assert theirs[:8] not in page
    assert mine not in page


def test_the_tokens_page_revokes_one(cast, client):
    key = issue_token()
    client.force_login(cast.org_drafter)

    response = client.post(f"/accounts/tokens/{token_of(key).pk}/revoke/")

    assert response.status_code == 303
    assert me(key).status_code == 401
    assert [e.detail["reason"] for e in revocations(cast.org_drafter)] == ["owner"]


def test_the_tokens_page_will_not_revoke_someone_elses(cast, client):
    theirs = issue_token("org_reviewer")
    client.force_login(cast.org_drafter)

    response = client.post(f"/accounts/tokens/{token_of(theirs).pk}/revoke/")

    assert response.status_code == 404
    assert me(theirs).status_code == 200


def test_the_notification_settings_link_to_the_tokens_page(cast, client):
    client.force_login(cast.org_drafter)

    assert 'href="/accounts/tokens/"' in client.get("/notifications/preferences/").content.decode()
