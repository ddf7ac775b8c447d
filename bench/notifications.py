"""Benchmark: from an action's commit to its in-app notification, and how fast a burst of
queued notifications drains, through a real Redis and two real Celery worker processes.

Not a test: run on demand. Needs PostgreSQL (the workers share the database) and
redis-server on the machine; it starts its own Redis on a free port and its own workers
(prefork, concurrency 1 each, as compose runs them), on a throwaway database created and
dropped by the run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/budget_workflow \\
        .venv/bin/python bench/notifications.py

Latency is read from the database: the action's audit event time (taken inside its
transaction, just before commit) to the notification's creation time in the worker; both
come from this machine's clock. The queued burst: BENCH_BURST submits made while no worker
runs (their tasks wait in Redis, as after an outage or a busy spell), then the two workers
start; timed from their launch (their start-up included), and from the first notification
to the last (the workers' own clock, this machine's).
"""

import os
import tempfile
import time
from pathlib import Path

from common import median, percentile, require_postgresql, rss_mb, throwaway_database

SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", 100))
BURST = int(os.environ.get("BENCH_BURST", 1000))
WORKERS = int(os.environ.get("BENCH_WORKERS", 2))


def main(directory: Path) -> None:
    from django.conf import settings
    from django.db.models import Max, Min

    from notifications.models import Notification
    from tests.factories import DepartmentFactory, act, make_text, make_user
    from tests.live import CeleryWorker, RedisServer, database_url, use_broker, wait_for
    from workflow.models import AuditEvent, OutboxMessage
    from workflow.states import Action, Role

    require_postgresql("bench/notifications.py")
    org = DepartmentFactory(code="org", name="中共新平彝族傣族自治县委员会组织部")
    drafter = make_user("org_drafter", Role.DRAFTER, org)
    make_user("org_reviewer", Role.DEPT_REVIEWER, org)

    def all_delivered(texts) -> bool:
        return Notification.objects.filter(text__in=texts).count() >= len(texts)

    redis = RedisServer(directory / "redis").start()
    try:
        with use_broker(redis.url):
            workers = [
                CeleryWorker(
                    directory / f"worker-{n}", redis.url, database_url(), embedded_beat=n == 0
                )
                for n in range(WORKERS)
            ]
            try:
                for worker in workers:
                    worker.launch()
                for worker in workers:
                    worker.wait_until_ready()

                # One at a time: each action's own latency, nothing queued before it.
                texts = [make_text(drafter, org) for _ in range(SEQUENTIAL)]
                for text in texts:
                    act(drafter, text, Action.SUBMIT)
                    wait_for(
                        lambda text=text: all_delivered([text]),
                        timeout=30,
                        interval=0.005,
                        message=lambda: "\n".join(w.log_tail(40) for w in workers),
                    )
                latencies = []
                for text in texts:
                    committed = AuditEvent.objects.get(text=text, action="submit").at
                    delivered = Notification.objects.get(text=text).created_at
                    latencies.append((delivered - committed).total_seconds() * 1000)

                # Live burst: actions as fast as one client makes them, workers running.
                live = [make_text(drafter, org) for _ in range(BURST)]
                started = time.perf_counter()
                for text in live:
                    act(drafter, text, Action.SUBMIT)
                acted = time.perf_counter() - started
                wait_for(lambda: all_delivered(live), timeout=600, interval=0.05)
                live_drained = time.perf_counter() - started

                # Queued burst: the workers stopped, the actions made, the workers started.
                for worker in workers:
                    worker.stop()
                queued = [make_text(drafter, org) for _ in range(BURST)]
                for text in queued:
                    act(drafter, text, Action.SUBMIT)
                started = time.perf_counter()
                for worker in workers:
                    worker.launch()
                wait_for(lambda: all_delivered(queued), timeout=600, interval=0.05)
                from_launch = time.perf_counter() - started
                first, last = (
                    Notification.objects.filter(text__in=queued)
                    .aggregate(first=Min("created_at"), last=Max("created_at"))
                    .values()
                )
                queued_drained = (last - first).total_seconds()
                transactions = (
                    OutboxMessage.objects.filter(text__in=queued)
                    .values("delivered_at")
                    .distinct()
                    .count()
                )
                memory = [(w.hostname, [rss_mb(pid) for pid in w.pids()]) for w in workers]
            finally:
                for worker in workers:
                    worker.stop()
    finally:
        redis.stop()

    print(
        f"\npostgresql, real Redis and {WORKERS} Celery workers (prefork, concurrency 1 each), "
        f"OUTBOX_BATCH_SIZE={settings.OUTBOX_BATCH_SIZE}\n"
    )
    print("| what | value |")
    print("| --- | ---: |")
    print(f"| commit → notification, median ({SEQUENTIAL} actions) | {median(latencies):.1f} ms |")
    print(f"| commit → notification, p95 | {percentile(latencies, 0.95):.1f} ms |")
    print(f"| live burst of {BURST} submits from one client: all performed | {acted:.1f} s |")
    print(f"| live burst: all notifications delivered | {live_drained:.1f} s |")
    print(f"| queued burst of {BURST}: workers launched → all delivered | {from_launch:.1f} s |")
    print(f"| queued burst: first → last notification | {queued_drained:.1f} s |")
    print(f"| queued burst: notifications per second | {BURST / queued_drained:.0f} |")
    print(f"| queued burst: delivery transactions | {transactions} |")
    for hostname, sizes in memory:
        listed = " + ".join(f"{size:.0f}" for size in sizes)
        print(f"| RSS of {hostname} (main + pool + beat), MiB | {listed} |")


if __name__ == "__main__":
    with throwaway_database(), tempfile.TemporaryDirectory() as tmp:
        main(Path(tmp))
