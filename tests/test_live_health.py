"""/healthz against a real Redis and a real worker."""

# ruff: noqa: F811 - the fixtures imported from tests.live are redefined as test parameters

import pytest

from tests.live import celery_worker, live_broker, redis_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.postgres


def test_healthz_reports_the_database_the_broker_and_a_worker_that_answered(client, celery_worker):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert body["worker"]["answered"] == [celery_worker.hostname]


def test_healthz_is_503_naming_the_broker_when_redis_is_down(client, celery_worker, live_broker):
    live_broker.stop()

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert body["worker"]["ok"] is False
