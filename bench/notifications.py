"""Benchmark: from an action's commit to its in-app notification, through a real Redis and
a real Celery worker process.

Not a test: run on demand. Needs PostgreSQL (the worker shares the database) and
redis-server on the machine; it starts its own Redis on a free port and its own worker,
on a throwaway database created and dropped by the run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/budget_workflow \\
        .venv/bin/python bench/notifications.py

Latency is read from the database: the action's audit event time (taken inside its
transaction, just before commit) to the notification's creation time in the worker; both
come from this machine's clock.
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Plain HTTP for the in-process client, as on one machine.
os.environ.setdefault("DEMO_MODE", "1")

import django

django.setup()

from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
)

SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", 100))
BURST = int(os.environ.get("BENCH_BURST", 1000))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


def main(directory: Path) -> None:
    from notifications.models import Notification
    from tests.factories import DepartmentFactory, act, make_text, make_user
    from tests.live import CeleryWorker, RedisServer, database_url, use_broker, wait_for
    from workflow.models import AuditEvent
    from workflow.states import Action, Role

    org = DepartmentFactory(code="org", name="中共新平彝族傣族自治县委员会组织部")
    drafter = make_user("org_drafter", Role.DRAFTER, org)
    make_user("org_reviewer", Role.DEPT_REVIEWER, org)

    redis = RedisServer(directory / "redis").start()
    try:
        with use_broker(redis.url):
            worker = CeleryWorker(directory / "worker", redis.url, database_url()).start()
            try:
                # One at a time: each action's own latency, nothing queued before it.
                texts = [make_text(drafter, org) for _ in range(SEQUENTIAL)]
                for text in texts:
                    act(drafter, text, Action.SUBMIT)
                    wait_for(
                        lambda text=text: Notification.objects.filter(text=text).exists(),
                        timeout=30,
                        interval=0.005,
                    )
                latencies = []
                for text in texts:
                    committed = AuditEvent.objects.get(text=text, action="submit").at
                    delivered = Notification.objects.get(text=text).created_at
                    latencies.append((delivered - committed).total_seconds() * 1000)

                # A burst: actions as fast as one client can make them, then wait for all.
                burst = [make_text(drafter, org) for _ in range(BURST)]
                started = time.perf_counter()
                for text in burst:
                    act(drafter, text, Action.SUBMIT)
                acted = time.perf_counter() - started
                wait_for(
                    lambda: Notification.objects.filter(text__in=burst).count() >= BURST,
                    timeout=600,
                    interval=0.1,
                )
                drained = time.perf_counter() - started
            finally:
                worker.stop()
    finally:
        redis.stop()

    print("\npostgresql, real Redis and one Celery worker (prefork, concurrency 1)\n")
    print("| what | value |")
    print("| --- | ---: |")
    print(
        f"| commit → notification, median ({SEQUENTIAL} actions) | "
        f"{statistics.median(latencies):.1f} ms |"
    )
    print(f"| commit → notification, p95 | {percentile(latencies, 0.95):.1f} ms |")
    print(f"| burst of {BURST} actions: all performed | {acted:.1f} s |")
    print(f"| burst of {BURST} actions: all notifications delivered | {drained:.1f} s |")


if __name__ == "__main__":
    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
    finally:
        teardown_databases(old, verbosity=0)
