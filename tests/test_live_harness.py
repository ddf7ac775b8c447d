"""The live-service harness itself (tests/live.py): a private Redis that can be stopped and
started, this process pointed at it, and a real Celery worker that survives SIGKILL and
broker restarts."""

# ruff: noqa: F811 - the fixtures imported from tests.live are redefined as test parameters

import os
import signal
import time

import pytest
import redis
from django.db import connection
from kombu.exceptions import OperationalError

from config.celery import app
from tests.live import (  # noqa: F401 - fixtures
    celery_worker,
    live_broker,
    port_open,
    redis_server,
    use_broker,
)

pytestmark = pytest.mark.postgres

SHARED_PORT = 6379


def shared_redis_run_id() -> str | None:
    """The shared instance's run id (read-only INFO), or None if it is not running."""
    try:
        with redis.Redis(
            port=SHARED_PORT, retry=None, socket_connect_timeout=1, socket_timeout=2
        ) as c:
            return c.info("server")["run_id"]
    except redis.RedisError:
        return None


def test_private_redis_stops_and_starts_on_the_same_port(redis_server):
    shared_before = shared_redis_run_id()
    port = redis_server.port
    assert port != SHARED_PORT
    assert redis_server.url == f"redis://127.0.0.1:{port}/0"
    client = redis_server.client()
    client.set("harness", "1")
    assert client.get("harness") == b"1"

    redis_server.stop()
    assert not port_open(port)
    with pytest.raises(redis.ConnectionError):
        redis_server.client().ping()

    redis_server.start()
    assert redis_server.port == port
    assert redis_server.client().ping()
    assert redis_server.client().get("harness") is None  # no persistence: a fresh instance

    # The shared instance is untouched: same process, still answering.
    assert shared_redis_run_id() == shared_before


def test_use_broker_points_the_app_at_a_url_and_restores_it(settings):
    before = app.conf.broker_url
    with use_broker("redis://127.0.0.1:1/0", settings):
        assert app.conf.broker_url == "redis://127.0.0.1:1/0"
        assert app.conf.task_always_eager is False
        assert settings.REDIS_URL == "redis://127.0.0.1:1/0"
        assert (app.pool.connection.hostname, app.pool.connection.port) == ("127.0.0.1", 1)
    assert app.conf.broker_url == before
    assert app._pool is None
    assert app.pool.connection.as_uri().split(":")[0] == before.split(":")[0]


def test_live_broker_really_talks_to_the_private_redis(live_broker):
    with app.connection_for_write() as conn:
        assert (conn.transport_cls, conn.hostname, conn.port) == (
            "redis",
            "127.0.0.1",
            live_broker.port,
        )
        conn.ensure_connection(max_retries=1)

    live_broker.stop()
    started = time.monotonic()
    with pytest.raises(OperationalError), app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
    assert time.monotonic() - started < 3.5

    live_broker.start()
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)


def test_worker_answers_ping_on_the_private_redis(celery_worker, live_broker):
    assert celery_worker.ping()
    assert celery_worker.hostname.startswith("test-worker-")
    banner = celery_worker.log_text()
    assert f"transport:   redis://:**@127.0.0.1:{live_broker.port}/0" in banner
    assert "redis://127.0.0.1:6379" not in banner
    assert "ready." in banner
    # Main process, one pool child and the embedded beat.
    assert len(celery_worker.pids()) >= 3
    # The environment reached the worker's settings: the same test database as this process,
    # the private broker, the short visibility timeout, files in the test's own directory.
    conf = celery_worker.conf()
    assert conf["DATABASES"]["default"]["NAME"] == connection.settings_dict["NAME"]
    assert conf["DATABASES"]["default"]["NAME"].startswith("test_")
    assert conf["CELERY_BROKER_URL"] == live_broker.url
    assert conf["CELERY_TASK_ALWAYS_EAGER"] is False
    assert conf["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"] == 5
    assert conf["EMAIL_FILE_PATH"] == str(celery_worker.mail_dir)


def test_sigkill_leaves_no_process_behind_and_restart_works(celery_worker):
    pids = celery_worker.pids()
    assert celery_worker.pid in pids

    killed = celery_worker.kill(signal.SIGKILL)
    assert set(killed) == set(pids)
    for pid in pids:  # gone, and reaped: not even a zombie is left
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not celery_worker.ping(timeout=0.5)

    celery_worker.restart()
    assert celery_worker.ping()
    assert not set(celery_worker.pids()) & set(pids)


def test_worker_reconnects_after_redis_restarts(celery_worker, live_broker):
    assert celery_worker.ping()
    live_broker.stop()
    assert not celery_worker.ping(timeout=0.5)
    time.sleep(2)  # long enough for the worker to notice the broker is gone
    live_broker.start()
    celery_worker.wait_for(celery_worker.ping, timeout=20, message="no ping after Redis restart")
    assert celery_worker.running
