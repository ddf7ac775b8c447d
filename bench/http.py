"""Benchmark: the real action endpoint against the floor, over HTTP, under load.

Not a test: run on demand, PostgreSQL only, on a throwaway database created and dropped by
the run. gunicorn (4 sync workers, bench/settings.py: the product plus the floor view of
bench/floor.py) serves both on a private Redis with one Celery worker draining the outbox, as
in production. A load generator in this process (threads, one http.client connection per
request: sync workers close each one) moves texts through the four actions of the built-in
workflow, each request carrying the version the previous answer gave, at concurrency 1, 4
and 16; floor and real runs alternate (interleaved) so that the machine's noise falls on both.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/budget_workflow \\
        .venv/bin/python bench/http.py [--texts 25] [--rounds 3] [--concurrency 1,4,16]

Prints per concurrency: actions/s (all requests over all runs' wall time), median and p99
latency, response size, and real/floor; then the memory (RSS) of each gunicorn worker and of
the Celery worker after the load. `wrk` is not needed (`apt-get install -y wrk` gives a
faster client for the floor alone; the chained versions make a script of it awkward).
"""

import sys
from pathlib import Path

# This file is named like the standard library's `http`: keep its folder off the path so that
# `import http.client` (here and in Django) finds the library.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import queue  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from bench.common import (  # noqa: E402
    ROOT,
    children,
    median,
    percentile,
    require_postgresql,
    rss_mb,
    throwaway_database,
)

STEPS = ("submit", "dept_approve", "finance_approve", "approve")
PASSWORD = "Bench-load-2026!x"  # noqa: S105 - a throwaway account on a throwaway database


@dataclass
class Run:
    kind: str
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def post(port: int, path: str, body: dict, token: str | None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", "Host": "127.0.0.1"}
    if token:
        headers["Authorization"] = f"Token {token}"
    try:
        connection.request("POST", path, json.dumps(body), headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def run(kind: str, port: int, texts: list[tuple[int, int]], concurrency: int, tokens) -> Run:
    """Each worker thread takes a text and makes its four actions, one after the other."""
    result = Run(kind, concurrency)
    work: queue.Queue[tuple[int, int]] = queue.Queue()
    for text in texts:
        work.put(text)
    lock = threading.Lock()

    def worker() -> None:
        while True:
            try:
                pk, version = work.get_nowait()
            except queue.Empty:
                return
            for step in STEPS:
                if kind == "floor":
                    path, token = f"/bench/floor/{pk}/{step}/", None
                else:
                    path, token = f"/api/v1/texts/{pk}/actions/{step}/", tokens[step]
                started = time.perf_counter()
                status, body = post(port, path, {"version": version}, token)
                took = (time.perf_counter() - started) * 1000
                with lock:
                    result.latencies.append(took)
                    result.sizes.append(len(body))
                    if status != 200:
                        result.errors.append(f"{step} {pk}: {status} {body[:200]!r}")
                if status != 200:
                    break
                version = json.loads(body)["version"]

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def main(args: argparse.Namespace, directory: Path) -> None:
    from submissions.models import ProjectText
    from tests.factories import DepartmentFactory, make_user, text_fields
    from tests.live import (
        CeleryWorker,
        RedisServer,
        database_url,
        free_port,
        port_open,
        use_broker,
        wait_for,
    )
    from workflow.states import Role

    require_postgresql("bench/http.py")
    org = DepartmentFactory(code="org", name="中共新平彝族傣族自治县委员会组织部")
    password = PASSWORD  # the factory hashes it (set_password)
    people = {
        "submit": make_user("org_drafter", Role.DRAFTER, org, password=password),
        "dept_approve": make_user("org_reviewer", Role.DEPT_REVIEWER, org, password=password),
        "finance_approve": make_user("finance", Role.FINANCE_REVIEWER, password=password),
        "approve": make_user("approver", Role.APPROVER, password=password),
    }
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    runs_needed = len(concurrencies) * args.rounds * 2 + 2  # and two warm-up runs
    fields = text_fields()
    drafts = ProjectText.objects.bulk_create(
        ProjectText(department=org, created_by=people["submit"], **fields)
        for _ in range(runs_needed * args.texts)
    )
    batches = [
        [(t.pk, t.version) for t in drafts[n * args.texts : (n + 1) * args.texts]]
        for n in range(runs_needed)
    ]

    redis = RedisServer(directory / "redis").start()
    worker = CeleryWorker(directory / "worker", redis.url, database_url(), embedded_beat=False)
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis.url,
        "DEMO_MODE": "1",
        "AUDIT_CHECKPOINT_FILE": str(directory / "checkpoints.log"),
    }
    log = (directory / "gunicorn.log").open("ab")
    command = [
        sys.executable, "-m", "gunicorn", "bench.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", "4", "--timeout", "60",
    ]  # fmt: skip
    gunicorn = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    results: list[Run] = []
    try:
        with use_broker(redis.url):
            worker.start()
        wait_for(lambda: port_open(port), timeout=60, interval=0.1)
        tokens = {}
        for step, user in people.items():
            status, body = post(
                port, "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, None
            )
            assert status == 200, (status, body[:300])
            tokens[step] = json.loads(body)["token"]
        # Warm up: every worker imports and connects before anything is timed.
        run("floor", port, batches.pop(), 4, tokens)
        run("real", port, batches.pop(), 4, tokens)
        for concurrency in concurrencies:
            for round_ in range(args.rounds):
                order = ("floor", "real") if round_ % 2 == 0 else ("real", "floor")
                for kind in order:
                    results.append(run(kind, port, batches.pop(), concurrency, tokens))
        gunicorn_rss = [rss_mb(pid) for pid in children(gunicorn.pid)]
        celery_rss = [(pid, rss_mb(pid)) for pid in worker.pids()]
    finally:
        os.killpg(gunicorn.pid, 15)
        gunicorn.wait(20)
        log.close()
        worker.stop()
        redis.stop()

    errors = [e for r in results for e in r.errors]
    print(
        f"\npostgresql, gunicorn 4 sync workers, Redis + 1 Celery worker; {args.texts} texts × "
        f"4 actions per run, {args.rounds} interleaved runs of each per concurrency\n"
    )
    print(
        "| concurrency | floor actions/s | real actions/s | real / floor | floor median / p99 ms "
        "| real median / p99 ms | response bytes floor / real |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for concurrency in concurrencies:
        row = {}
        for kind in ("floor", "real"):
            mine = [r for r in results if r.kind == kind and r.concurrency == concurrency]
            latencies = [x for r in mine for x in r.latencies]
            sizes = [x for r in mine for x in r.sizes]
            rate = len(latencies) / sum(r.seconds for r in mine)
            row[kind] = (rate, median(latencies), percentile(latencies, 0.99), median(sizes))
        floor, real = row["floor"], row["real"]
        print(
            f"| {concurrency} | {floor[0]:.0f} | {real[0]:.0f} | {real[0] / floor[0]:.2f}× | "
            f"{floor[1]:.1f} / {floor[2]:.1f} | {real[1]:.1f} / {real[2]:.1f} | "
            f"{floor[3]:.0f} / {real[3]:.0f} |"
        )
    print("\n| process after the load | RSS MiB |")
    print("| --- | ---: |")
    for n, size in enumerate(gunicorn_rss, 1):
        print(f"| gunicorn worker {n} | {size:.0f} |")
    for n, (_pid, size) in enumerate(celery_rss):
        print(f"| celery worker {'main' if n == 0 else 'pool child'} | {size:.0f} |")
    if errors:
        print(f"\n{len(errors)} requests failed; the first: {errors[:3]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=25, help="texts per run (4 actions each)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each kind per concurrency")
    parser.add_argument("--concurrency", default="1,4,16", help="comma-separated")
    arguments = parser.parse_args()
    with throwaway_database(), tempfile.TemporaryDirectory() as tmp:
        main(arguments, Path(tmp))
