"""/healthz against a real Redis and a real worker: the overall status for anyone, each part's
details for an operator (a staff user)."""

# ruff: noqa: F811 - the fixtures imported from tests.live are redefined as test parameters

import pytest

from tests.factories import make_user, sign_in_with_code
from tests.live import celery_worker, live_broker, redis_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.postgres


@pytest.fixture
def operator(client, transactional_db):
    sign_in_with_code(client, make_user("operator", is_staff=True))
    return client


def test_healthz_is_200_with_only_the_status_for_anyone_while_a_worker_answers(
    client, celery_worker
):
    response = client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"ok": True})


def test_healthz_is_503_with_only_the_status_for_anyone_when_redis_is_down(
    client, celery_worker, live_broker
):
    live_broker.stop()

    response = client.get("/healthz")

    assert (response.status_code, response.json()) == (503, {"ok": False})
    assert str(live_broker.port) not in response.content.decode()


def test_healthz_tells_an_operator_the_database_the_broker_and_the_worker_that_answered(
    operator, celery_worker
):
    response = operator.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert body["worker"]["answered"] == [celery_worker.hostname]


def test_healthz_tells_an_operator_the_broker_is_down_and_why(operator, celery_worker, live_broker):
    live_broker.stop()

    response = operator.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert str(live_broker.port) in body["broker"]["error"]
    assert body["worker"]["ok"] is False
