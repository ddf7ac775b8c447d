"""Benchmark: how long workflow actions, the text list and audit verification take.

Not a test: run on demand, on a throwaway database created and dropped by the run.

    .venv/bin/python bench/actions.py                # SQLite (the embedded default)
    DATABASE_URL=postgres://... .venv/bin/python bench/actions.py

Prints a Markdown table of medians and p95s (milliseconds). The machines are shared and
noisy: compare figures from one run, not across runs.
"""

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Plain HTTP for the in-process client, as on one machine.
os.environ.setdefault("DEMO_MODE", "1")
# A file, like the embedded default, not the in-memory database tests use.
os.environ.setdefault("SQLITE_TEST_PATH", str(Path(__file__).resolve().parent / "bench.sqlite3"))

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
)
from rest_framework.test import APIClient  # noqa: E402

TEXTS = int(os.environ.get("BENCH_TEXTS", 300))
LIST_TEXTS = int(os.environ.get("BENCH_LIST_TEXTS", 2000))


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    from django.contrib.auth.hashers import make_password

    from submissions.models import ProjectText
    from tests.factories import DepartmentFactory, make_text, make_user, text_fields
    from workflow import audit, services
    from workflow.states import Action, Role

    org = DepartmentFactory(code="org", name="中共新平彝族傣族自治县委员会组织部")
    password = make_password(None)
    drafter = make_user("org_drafter", Role.DRAFTER, org, password=password)
    reviewer = make_user("org_reviewer", Role.DEPT_REVIEWER, org, password=password)
    finance = make_user("finance", Role.FINANCE_REVIEWER, password=password)
    approver = make_user("approver", Role.APPROVER, password=password)

    texts = [make_text(drafter, org) for _ in range(TEXTS)]
    steps = [
        (Action.SUBMIT, drafter),
        (Action.DEPT_APPROVE, reviewer),
        (Action.FINANCE_APPROVE, finance),
        (Action.APPROVE, approver),
    ]
    rows = []
    for action, actor in steps:
        samples = []
        for text in texts:
            samples.append(
                timed(
                    lambda text=text, action=action, actor=actor: services.perform_action(
                        actor=actor,
                        text_id=text.pk,
                        action=action,
                        version=ProjectText.objects.get(pk=text.pk).version,
                    )
                )
            )
        rows.append((f"action `{action.value}` (service, incl. one re-read)", *summary(samples)))

    fields = text_fields()
    ProjectText.objects.bulk_create(
        ProjectText(department=org, created_by=drafter, **fields) for _ in range(LIST_TEXTS - TEXTS)
    )
    client = APIClient()
    client.force_authenticate(reviewer)

    def get(path: str) -> Callable[[], object]:
        def fetch() -> None:
            response = client.get(path)
            assert response.status_code == 200, response.content[:200]

        return fetch

    samples = [timed(get("/api/v1/texts/?page_size=50")) for _ in range(50)]
    rows.append((f"GET /api/v1/texts/ (50 of {LIST_TEXTS})", *summary(samples)))
    samples = [timed(get("/api/v1/texts/inbox/")) for _ in range(50)]
    rows.append((f"GET /api/v1/texts/inbox/ ({LIST_TEXTS} texts)", *summary(samples)))

    events = audit.AuditEvent.objects.count()
    samples = [timed(audit.verify) for _ in range(5)]
    rows.append((f"verify_audit ({events} events)", *summary(samples)))

    print(f"\n{connection.vendor}, {TEXTS} texts through every stage\n")
    print("| what | median ms | p95 ms |")
    print("| --- | ---: | ---: |")
    for name, median, p95 in rows:
        print(f"| {name} | {median:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        main()
    finally:
        teardown_databases(old, verbosity=0)
