"""Benchmark: `verify_audit` on a log of millions of events, and finding one tampered event.

Not a test: run on demand, PostgreSQL only, on a throwaway database created and dropped by
the run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/budget_workflow \\
        .venv/bin/python bench/audit.py [--events 5000000] [--stream-length 12] [--jobs 1,2]
            [--checkpoints 1000] [--repeat 3]

Generation: chains of realistic length (a text's life: created, edited, submitted, decided,
returned and resubmitted...), each event made by the product's own append (`audit._append` on a
head row held in memory: whatever the chain's format becomes, the bench writes it) and written
with COPY in batches, heads last, in `--checkpoints` pieces (default 1,000), each sealed as it
is written, as the seals that follow each change would have: a log has many checkpoints, each
sealing the streams that changed since the one before. It first times 100,000 events and prints
the projected time for the rest. Then it times a seal after one new event (median of
`--repeat`), and `manage.py verify_audit` runs as a command of its own (its parallelism
included) on the intact log, and the API's answer (`audit.current_verification`) is timed after
one new event, which it catches up on in the request; then one event in the middle has its
comment altered behind the database's back (its append-only trigger disabled for that one
UPDATE, as the database's owner could) and `verify_audit` runs again: it must fail naming that
event. Each is timed with each `--jobs` value (default 1 and 2: one process, and the streams
split between two).

Prints events/s for generation and verification, the seals' seconds, and the seconds to find
the tampered event.
"""

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The checkpoint file outside the database: this run's own, named before Django reads it.
CHECKPOINTS = Path(tempfile.mkdtemp(prefix="bench-audit-"))
os.environ["AUDIT_CHECKPOINT_FILE"] = str(CHECKPOINTS / "checkpoints.log")

from common import ROOT, cpu_seconds_of, require_postgresql, throwaway_database  # noqa: E402

BATCH = 20_000
# A text's life, as the log records it; a stream is cut at a random length around the mean.
LIFE = [
    ("create", "", "draft"),
    ("update", "draft", "draft"),
    ("update", "draft", "draft"),
    ("submit", "draft", "dept_review"),
    ("dept_approve", "dept_review", "finance_review"),
    ("return", "finance_review", "returned"),
    ("update", "returned", "returned"),
    ("submit", "returned", "dept_review"),
    ("dept_approve", "dept_review", "finance_review"),
    ("finance_approve", "finance_review", "approval"),
    ("approve", "approval", "approved"),
    ("export", "approved", "approved"),
]
COMMENT = "资金测算依据不足，请补充说明项目实施内容中的培训人次与单价。"


def generate(total: int, mean_length: int, first_stream: int = 0) -> tuple[int, float]:
    """Append `total` events in chains of about `mean_length`; return (streams, seconds)."""
    from django.db import connection

    from workflow import audit, prepared
    from workflow.models import AuditChain, AuditEvent

    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    chain_fields = AuditChain._meta.concrete_fields
    chain_columns = ", ".join(connection.ops.quote_name(f.column) for f in chain_fields)
    rng = random.Random(12)
    pending: list[AuditEvent] = []
    heads: list[AuditChain] = []
    real_insert = prepared.insert

    def collect(instance) -> None:
        assert isinstance(instance, AuditEvent), instance
        pending.append(instance)

    def flush() -> None:
        with connection.cursor() as cursor:
            copy_sql = f"COPY {AuditEvent._meta.db_table} ({columns}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for event in pending:
                    copy.write_row(
                        [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
                    )
        pending.clear()

    started = time.perf_counter()
    made = 0
    stream_number = first_stream
    prepared.insert = collect
    try:
        while made < total:
            stream_number += 1
            length = min(total - made, max(1, int(rng.expovariate(1 / mean_length))))
            chain = AuditChain(
                stream=f"text:{stream_number}", length=0, head_hash=audit.GENESIS_HASH
            )
            for n in range(length):
                action, before, after = LIFE[n % len(LIFE)]
                audit._append(
                    chain,
                    actor_id=None,
                    actor_name=f"user{rng.randrange(5000)}",
                    action=action,
                    outcome="ok",
                    text_id=None,
                    department=f"d{stream_number % 300:03d}",
                    from_state=before,
                    to_state=after,
                    revision=1 + n // 8,
                    comment=COMMENT if action == "return" else "",
                    changes={"amount": ["1751800.00", f"{1751800 + n}.00"]}
                    if action == "update"
                    else {},
                    detail={},
                )
            heads.append(chain)
            made += length
            if len(pending) >= BATCH:
                flush()
        if pending:
            flush()
    finally:
        prepared.insert = real_insert
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {AuditChain._meta.db_table} ({chain_columns}) FROM STDIN"
        ) as copy,
    ):
        for chain in heads:
            copy.write_row(
                [f.get_db_prep_save(getattr(chain, f.attname), connection) for f in chain_fields]
            )
    return len(heads), time.perf_counter() - started


def generate_and_seal(total: int, mean_length: int, pieces: int) -> tuple[int, float, list[float]]:
    """`generate` in `pieces`, each sealed as it is written, as the seals that follow each
    change would have: (streams, seconds generating, each seal's seconds). The first 100,000
    events are timed and the rest projected."""
    from workflow import audit

    streams, took, seals = 0, 0.0, []
    size = max(1, total // pieces)
    made, projected = 0, False
    while made < total:
        piece = min(size, total - made)
        more, took_piece = generate(piece, mean_length, first_stream=streams)
        streams, took, made = streams + more, took + took_piece, made + piece
        started = time.perf_counter()
        audit.seal()
        seals.append(time.perf_counter() - started)
        if not projected and made >= min(100_000, total):
            projected = True
            print(
                f"generated {made:,} events in {took:.1f} s ({made / took:,.0f} events/s, "
                f"{len(seals)} seals); the rest projected at "
                f"{(total - made) / (made / took):.0f} s",
                flush=True,
            )
    return streams, took, seals


def answer_after_one_change() -> float:
    """Seconds for the answer of GET /api/v1/audit/verify/ (`audit.current_verification`)
    after one new event: it catches up on it in the request, from the last kept verification."""
    from django.db import transaction

    from workflow import audit

    with transaction.atomic(durable=True):
        audit.record(stream="user:bench", actor=None, action="sign_in")
    started = time.perf_counter()
    verification, unverified = audit.current_verification()
    took = time.perf_counter() - started
    assert verification.ok and verification.kind == "incremental" and not unverified
    return took


def seal_after_one_change() -> float:
    """Seconds to seal the log after one new event, the seal every change is followed by."""
    from django.db import transaction

    from workflow import audit

    with transaction.atomic(durable=True):
        audit.record(stream="user:bench", actor=None, action="sign_in")
    started = time.perf_counter()
    checkpoint = audit.seal()
    took = time.perf_counter() - started
    assert checkpoint is not None and list(checkpoint.heads) == ["user:bench"], checkpoint
    return took


def verify_command(env: dict[str, str], jobs: int) -> tuple[float, int, str, float, float]:
    """Seconds, exit status, output, the CPU seconds of the command's own processes (with one
    job, what one core of the verifier spends) and those of the database server meanwhile
    (it writes each event's canonical text; on this machine, so it can be read)."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = cpu_seconds_of("postgres")
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "manage.py", "verify_audit", "--jobs", str(jobs)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    server = cpu_seconds_of("postgres") - server_before
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return took, done.returncode, (done.stdout + done.stderr).strip(), cpu, server


def main(args: argparse.Namespace) -> None:
    from common import database_url
    from django.db import connection

    from workflow.models import AuditEvent

    require_postgresql("bench/audit.py")
    streams, took, seals = generate_and_seal(args.events, args.stream_length, args.checkpoints)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {AuditEvent._meta.db_table}")
    sealing = sorted(seal_after_one_change() for _ in range(args.repeat))
    total = AuditEvent.objects.count()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }

    # Median of --repeat runs on the intact log, the job counts interleaved: the machine is
    # shared and noisy.
    intact: dict[int, list] = {jobs: [] for jobs in args.jobs}
    for _ in range(args.repeat):
        for jobs in args.jobs:
            intact[jobs].append(verify_command(env, jobs))
    answers = sorted(answer_after_one_change() for _ in range(args.repeat))

    target = AuditEvent.objects.order_by("pk").values_list("pk", flat=True)[total // 2]
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        # As the database's owner could: the append-only triggers off for one UPDATE.
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        altered = f"UPDATE {table} SET comment = comment || '（已改）' WHERE id = %s"  # noqa: S608
        cursor.execute(altered, [target])
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    tampered = {jobs: verify_command(env, jobs) for jobs in args.jobs}

    print(
        f"\npostgresql, {total:,} events in {streams:,} streams "
        f"(mean length {total / streams:.1f})\n"
    )
    print(f"generation (Python hashes, COPY): {took:.0f} s, {total / took:,.0f} events/s\n")
    print(
        f"{len(seals):,} checkpoints sealed while generating: median "
        f"{statistics.median(seals):.3f} s, slowest {max(seals):.3f} s; a seal after one new "
        "event at the end: median "
        f"{statistics.median(sealing) * 1000:.0f} ms of {len(sealing)}; the API's answer "
        f"after one new event (caught up in the request): median "
        f"{statistics.median(answers) * 1000:.0f} ms of {len(answers)}\n"
    )
    print(
        f"| `verify_audit --jobs` | intact: exit | intact: s (median of {args.repeat}) "
        "| events/s | CPU s of its processes | events per CPU second | database CPU s "
        "| altered: exit | altered: found in s | altered event named |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for jobs in args.jobs:
        runs = intact[jobs]
        seconds = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[3] for run in runs)
        server = statistics.median(run[4] for run in runs)
        found_in, status, output, _cpu, _server = tampered[jobs]
        named = f"#{target}" in output or f" {target}" in output
        print(
            f"| {jobs} | {max(run[1] for run in runs)} | {seconds:.1f} "
            f"| {total / seconds:,.0f} | {cpu:.1f} | {total / cpu:,.0f} | {server:.1f} "
            f"| {status} | {found_in:.1f} | {'yes' if named else 'NO'} (#{target}) |"
        )
    print(f"\nintact: {intact[args.jobs[0]][-1][2][-300:]}")
    print(f"altered: {tampered[args.jobs[0]][2][-300:]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="verifications of the intact log")
    parser.add_argument("--stream-length", type=int, default=12, help="mean events per stream")
    parser.add_argument(
        "--checkpoints",
        type=int,
        default=1000,
        help="seals while generating (a working day's worth, each change sealed within seconds)",
    )
    parser.add_argument(
        "--jobs", default="1,2", help="verify_audit --jobs values to time (comma-separated)"
    )
    arguments = parser.parse_args()
    arguments.jobs = [int(jobs) for jobs in arguments.jobs.split(",")]
    try:
        with throwaway_database():
            main(arguments)
    finally:
        shutil.rmtree(CHECKPOINTS, ignore_errors=True)
