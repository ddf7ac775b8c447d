"""Notifications through a real Redis and a real Celery worker process: every one delivered
once, through a broker outage and a worker killed in the middle of a delivery.

PostgreSQL only: the worker is another process and needs the test database too.
"""

# ruff: noqa: F811 - the fixtures imported from tests.live are redefined as test parameters

import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from notifications.models import Notification
from submissions.models import ProjectText
from tests.factories import act
from tests.live import (  # noqa: F401 - fixtures
    celery_worker,
    database_url,
    live_broker,
    redis_server,
    wait_for,
)
from workflow.models import OutboxMessage
from workflow.states import Action

pytestmark = pytest.mark.postgres


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    # A dispatched row still undelivered after 3 s is handed over again by the sweep.
    return {"OUTBOX_REDISPATCH_SECONDS": "3"}


@pytest.fixture
def cast_with_mail(cast):
    for user in (cast.org_drafter, cast.org_reviewer, cast.finance, cast.approver):
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    return cast


def expected_notifications(cast, texts) -> Counter:
    """What DESIGN.md says each text's four actions tell whom, written out by hand."""
    per_text = [
        ("submit", cast.org_reviewer),
        ("dept_approve", cast.finance),
        ("finance_approve", cast.approver),
        # approve: the drafter and everyone who acted on the revision, not the approver
        ("approve", cast.org_drafter),
        ("approve", cast.org_reviewer),
        ("approve", cast.finance),
    ]
    return Counter((t.pk, kind, user.pk) for t in texts for kind, user in per_text)


def delivered() -> Counter:
    return Counter(Notification.objects.values_list("text_id", "kind", "recipient_id"))


def mails(worker) -> int:
    """E-mails the worker sent: Django's file backend ends each message with a rule of
    79 dashes (several messages may share a file)."""
    directory = Path(worker.mail_dir)
    if not directory.exists():
        return 0
    rule = "\n" + "-" * 79 + "\n"
    return sum(path.read_text(encoding="utf-8").count(rule) for path in directory.glob("*.log"))


def test_two_hundred_actions_deliver_every_notification_once(cast_with_mail, celery_worker):
    cast = cast_with_mail
    texts = [cast.text() for _ in range(50)]
    steps = [
        (Action.SUBMIT, cast.org_drafter),
        (Action.DEPT_APPROVE, cast.org_reviewer),
        (Action.FINANCE_APPROVE, cast.finance),
        (Action.APPROVE, cast.approver),
    ]
    for action, user in steps:
        for text in texts:
            act(user, text, action)
    expected = expected_notifications(cast, texts)

    celery_worker.wait_for(
        lambda: Notification.objects.count() >= expected.total(),
        timeout=90,
        message="notifications delivered",
    )
    time.sleep(3)  # more than one sweep: anything extra would have arrived by now

    assert delivered() == expected
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()
    celery_worker.wait_for(lambda: mails(celery_worker) >= expected.total(), timeout=30)
    assert mails(celery_worker) == expected.total()


def test_actions_succeed_while_redis_is_down_and_notify_once_it_is_back(
    cast, celery_worker, live_broker
):
    texts = [cast.text() for _ in range(50)]
    live_broker.stop()

    started = time.monotonic()
    for text in texts:
        result = act(cast.org_drafter, text, Action.SUBMIT)
        assert result.state == "dept_review"
    took = time.monotonic() - started
    assert took < 30, f"50 actions took {took:.1f} s with the broker down"
    assert Notification.objects.count() == 0

    live_broker.start()
    wait_for(
        lambda: Notification.objects.count() >= 50,
        timeout=60,
        message="delivery after Redis came back",
    )
    time.sleep(3)

    assert delivered() == Counter((t.pk, "submit", cast.org_reviewer.pk) for t in texts)
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()


def _waiting_on_lock(conn: psycopg.Connection, table: str) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND query ILIKE %s AND pid <> pg_backend_pid()",
        (f'%INSERT INTO "{table}"%',),
    ).fetchone()
    return row[0] > 0


def test_a_worker_killed_in_the_middle_of_a_delivery_delivers_once_after_restart(
    cast, celery_worker
):
    text = cast.text()
    locker = psycopg.connect(database_url(), autocommit=False)
    watcher = psycopg.connect(database_url(), autocommit=True)
    try:
        # Hold inserts into the notification table: the worker will take the outbox row,
        # start writing the notification and wait there, in the middle of the delivery.
        locker.execute("LOCK TABLE notifications_notification IN EXCLUSIVE MODE")
        act(cast.org_drafter, text, Action.SUBMIT)
        wait_for(
            lambda: _waiting_on_lock(watcher, "notifications_notification"),
            timeout=30,
            message="the worker blocked inside the delivery",
        )

        celery_worker.kill()
        locker.rollback()
    finally:
        locker.close()
        watcher.close()
    assert Notification.objects.count() == 0

    celery_worker.start()
    wait_for(lambda: Notification.objects.count() >= 1, timeout=60, message="redelivery")
    time.sleep(3)

    assert list(Notification.objects.values_list("text_id", "kind", "recipient_id")) == [
        (text.pk, "submit", cast.org_reviewer.pk)
    ]
    assert OutboxMessage.objects.get(text=text).delivered_at is not None
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"
