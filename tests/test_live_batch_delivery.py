"""A burst of queued notifications through a real Redis and two real worker processes: every
outbox row delivered once, in batches, and a batch handed over twice notifies nobody twice.

PostgreSQL only: the workers are other processes and need the test database too. How fast
the burst drains is a number for `bench/notifications.py`, not an assertion here.
"""

# ruff: noqa: F811 - the fixtures imported from tests.live are redefined as test parameters

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count

from notifications.models import Notification
from notifications.tasks import deliver, deliver_batch
from tests.live import (  # noqa: F401 - fixtures
    CeleryWorker,
    RedisServer,
    database_url,
    live_broker,
    redis_server,
)
from workflow import outbox
from workflow.models import OutboxMessage

pytestmark = pytest.mark.postgres

TEXTS = 10
RECIPIENTS = 100  # TEXTS × RECIPIENTS outbox rows: 1,000


@pytest.fixture
def two_workers(
    transactional_db: None, live_broker: RedisServer, tmp_path: Path
) -> Iterator[list[CeleryWorker]]:
    """Two worker processes on the private Redis and the test database, not yet started: a
    test queues its work first, so that the workers meet a burst. Only the first runs beat."""
    workers = [
        CeleryWorker(
            tmp_path / f"worker-{n}", live_broker.url, database_url(), embedded_beat=n == 0
        )
        for n in range(2)
    ]
    try:
        yield workers
    finally:
        for worker in workers:
            worker.kill_now()
            print(f"--- {worker.hostname} ({worker.log_path}) ---\n{worker.log_tail()}")


def start(workers: list[CeleryWorker]) -> None:
    for worker in workers:
        worker.launch()
    for worker in workers:
        worker.wait_until_ready()


def recipients() -> list[int]:
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"reader{n:03d}") for n in range(RECIPIENTS)
    )
    return [u.pk for u in users]


def queue_one_per_transaction(cast, people: list[int]) -> list[int]:
    """One outbox row per transaction, each relayed on its own commit, as a burst of actions
    queues them."""
    ids = []
    for _ in range(TEXTS):
        text = cast.text()
        for person in people:
            with transaction.atomic():
                ids += outbox.queue(
                    kind="submit", text=text, actor=cast.org_drafter, recipient_ids=[person]
                )
    return ids


def notifications_per_row() -> dict[int, int]:
    return dict(
        Notification.objects.values("outbox_id")
        .annotate(n=Count("id"))
        .values_list("outbox_id", "n")
    )


def wait_delivered(workers: list[CeleryWorker], count: int) -> None:
    workers[0].wait_for(
        lambda: (
            not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()
            and Notification.objects.count() >= count
        ),
        timeout=120,
        message=f"{count} notifications delivered",
    )


def test_a_burst_of_a_thousand_queued_rows_is_delivered_once_each_by_two_workers(cast, two_workers):
    ids = queue_one_per_transaction(cast, recipients())
    assert len(ids) == 1000
    assert Notification.objects.count() == 0  # queued in the broker: nobody delivers yet

    start(two_workers)
    wait_delivered(two_workers, 1000)
    time.sleep(3)  # more than one sweep: anything extra would have arrived by now

    assert notifications_per_row() == dict.fromkeys(ids, 1)
    assert Notification.objects.values("recipient_id", "text_id").distinct().count() == 1000


def test_the_thousand_rows_were_delivered_in_batches(cast, two_workers):
    queue_one_per_transaction(cast, recipients())

    start(two_workers)
    wait_delivered(two_workers, 1000)

    # One transaction stamps a whole batch with one time: far fewer than 1,000 distinct times.
    stamps = OutboxMessage.objects.values("delivered_at").distinct().count()
    assert stamps <= 100, f"{stamps} delivery transactions for 1,000 rows"


def test_a_batch_handed_over_again_to_both_workers_notifies_nobody_twice(cast, two_workers):
    people = recipients()
    text = cast.text()
    with transaction.atomic():
        ids = outbox.queue(kind="submit", text=text, actor=cast.org_drafter, recipient_ids=people)
    # The same rows again, as a redelivered task, a sweep's second hand-over and the old
    # one-row task would bring them: waiting in the broker beside the first, for two workers.
    for _ in range(3):
        deliver_batch.apply_async((ids,), {"fill": True})
    for outbox_id in ids[:10]:
        deliver.apply_async((outbox_id,))

    start(two_workers)
    wait_delivered(two_workers, len(ids))
    time.sleep(3)

    assert notifications_per_row() == dict.fromkeys(ids, 1)
    assert sorted(Notification.objects.values_list("recipient_id", flat=True)) == sorted(people)
