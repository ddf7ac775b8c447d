"""A full audit verification walked by several processes at once (`verify_audit --jobs N`).

Streams are independent chains, so the streams are split into `jobs` ranges of about as many
events each, in the database's order of names (so that each range is one scan of the
(stream, seq) index), and each range is walked by a process of its own. All of them read the
one snapshot the verification began in: the parent exports it (`pg_export_snapshot`) and
each process imports it (`SET TRANSACTION SNAPSHOT`) before it reads anything, so that the
parallel walk sees exactly what a single walk would have seen.

The processes are started fresh (`spawn`), not forked: a forked child would share the
parent's database connection, which holds that snapshot open. PostgreSQL only; elsewhere, or
inside a transaction whose writes the other processes could not see, the walk is single.
"""

from __future__ import annotations

import multiprocessing
from typing import TYPE_CHECKING, Any

from django.db import connection

if TYPE_CHECKING:
    from workflow.audit import Walk

Range = tuple[str | None, str | None]


def possible() -> bool:
    """Whether other processes can share this verification's snapshot: PostgreSQL, and the
    snapshot is a transaction of the verification's own (not one around it, such as a test's,
    whose uncommitted rows no other session sees)."""
    return connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1


def split(heads: dict[str, tuple[int, str]], jobs: int) -> list[list[str]]:
    """The streams of `heads` (in the database's order) cut into at most `jobs` runs of
    neighbouring streams with about as many events each."""
    total = sum(length for length, _hash in heads.values())
    share = max(total / jobs, 1)
    runs: list[list[str]] = [[]]
    counted = 0
    for name, (length, _hash) in heads.items():
        # A stream goes to the next run when most of it lies beyond this run's share.
        if runs[-1] and counted + length / 2 > share * len(runs) and len(runs) < jobs:
            runs.append([])
        runs[-1].append(name)
        counted += length
    return [run for run in runs if run]


def walk(
    runs: list[list[str]],
    heads: dict[str, tuple[int, str]],
    points: dict[str, dict[int, str]],
    seal_lengths: dict[str, int],
) -> Walk:
    """`audit.walk_events` over all events, by a process for each of the `runs` (`split`);
    the same result."""
    from workflow.audit import Walk

    ranges: list[Range] = [
        (None if n == 0 else run[0], runs[n + 1][0] if n + 1 < len(runs) else None)
        for n, run in enumerate(runs)
    ]
    owner = {name: n for n, run in enumerate(runs) for name in run}
    # A seal whose stream has no head row any more (it was deleted): its range by the
    # database's comparison of names, as the walk that meets its events will see it.
    for name in [name for name in points if name not in owner]:
        owner[name] = _range_of(name, ranges)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
    shares = [
        (
            snapshot,
            ranges[n],
            {name: heads[name] for name in runs[n]},
            {name: p for name, p in points.items() if owner[name] == n},
            {
                name: seal_lengths[name]
                for name in points
                if owner[name] == n and name in seal_lengths
            },
        )
        for n in range(len(runs))
    ]
    database = dict(connection.settings_dict)
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(shares), initializer=_start, initargs=(database,)) as pool:
        walks = pool.map(_walk_share, shares, chunksize=1)
    walked = Walk()
    for part in walks:
        walked.add(part)
    return walked


def _range_of(name: str, ranges: list[Range]) -> int:
    with connection.cursor() as cursor:
        for n, (low, high) in enumerate(ranges):
            cursor.execute(
                "SELECT (%s IS NULL OR CAST(%s AS varchar) >= %s)"
                " AND (%s IS NULL OR CAST(%s AS varchar) < %s)",
                [low, name, low, high, name, high],
            )
            if cursor.fetchone()[0]:
                return n
    return len(ranges) - 1


# --- In each process ---------------------------------------------------------------------------


def _start(database: dict[str, Any]) -> None:
    """Set a new process up as Django, on the parent's database (a test's, say, whose name
    only the parent's connection knows)."""
    import django

    django.setup()
    from django.db import connections

    connections["default"].settings_dict.update(database)


def _walk_share(share: tuple) -> Walk:
    from django.db import transaction

    from workflow.audit import cycle_collector_paused, walk_events
    from workflow.audit_rows import event_runs

    snapshot, streams, heads, points, seal_lengths = share
    with cycle_collector_paused(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
        return walk_events(event_runs(streams), heads, points, seal_lengths)
