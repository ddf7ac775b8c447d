"""/healthz: the overall answer for anyone (load balancers, compose health checks), the
per-part details for operators only (a staff user, or a monitor holding HEALTHZ_TOKEN)."""

import pytest
from django.db import connection

from tests.factories import make_user, sign_in_with_code
from tests.live import free_port

# What an outsider must not learn from /healthz: the database vendor, the broker's mode and
# address, any error text.
DETAILS = ("database", "broker", "worker", "vendor", "mode", "error", "127.0.0.1", "sqlite")


@pytest.fixture
def broker_down(settings) -> str:
    """REDIS_URL pointing at a port nothing listens on: the broker check fails for real."""
    port = free_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    return str(port)


@pytest.fixture
def operator(db):
    return make_user("operator", is_staff=True)


def test_anyone_gets_200_and_only_the_overall_status_when_healthy(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_anyone_gets_503_and_only_the_overall_status_when_a_part_is_down(client, db, broker_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"ok": False}
    assert not any(word in response.content.decode() for word in DETAILS)


def test_a_signed_in_user_who_is_not_staff_gets_only_the_overall_status(client, db, broker_down):
    client.force_login(make_user("org_drafter"))

    response = client.get("/healthz")

    assert (response.status_code, response.json()) == (503, {"ok": False})


def test_a_staff_user_gets_each_parts_details(client, operator):
    sign_in_with_code(client, operator)

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["database"] == {"ok": True, "vendor": connection.vendor}


def test_a_staff_user_is_told_which_part_is_down_and_why(client, operator, broker_down):
    sign_in_with_code(client, operator)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert broker_down in body["broker"]["error"]
    assert body["worker"] == {"ok": False, "error": "broker unavailable"}


def test_a_monitor_with_the_token_gets_the_details(client, db, settings, broker_down):
    settings.HEALTHZ_TOKEN = "monitor-secret-31"

    response = client.get("/healthz", HTTP_AUTHORIZATION="Bearer monitor-secret-31")

    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


@pytest.mark.parametrize(
    "authorization", ["Bearer wrong-secret", "monitor-secret-31", "Bearer ", ""]
)
def test_a_wrong_or_missing_token_gets_only_the_overall_status(client, db, settings, authorization):
    settings.HEALTHZ_TOKEN = "monitor-secret-31"

    response = client.get("/healthz", HTTP_AUTHORIZATION=authorization)

    assert response.json() == {"ok": True}


def test_no_token_is_accepted_when_none_is_configured(client, db, settings):
    settings.HEALTHZ_TOKEN = ""

    response = client.get("/healthz", HTTP_AUTHORIZATION="Bearer ")

    assert response.json() == {"ok": True}


def test_the_schema_and_its_docs_are_served_without_a_cdn(client, db):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
