"""One run of a periodic job at a time, however many schedulers and workers there are.

Every sweep is correct when two run at once (each row it acts on is locked and checked
again under the lock, or its result is keyed by a unique constraint); the lease spares the
second run's work, and keeps two full verifications from recording two results for one
state of the log. Only for jobs whose skipped run the next run makes up for: a sweep, not
a seal asked for after a change. Two beat schedulers started by mistake, or cron starting
`run_sweeps` while the previous one still runs, then cost nothing.

PostgreSQL: a session advisory lock, taken without waiting. It is released at the end of
the run, or by the server when the process or its connection dies, so a crashed run never
leaves a lease behind. SQLite (the embedded default: one machine, no beat) has one writer
at a time already and every write transaction is IMMEDIATE; there the lease is always given.
"""

import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from django.db import connection

# The first key of the two-key advisory locks: the jobs' own namespace. PostgreSQL keeps the
# two-key space apart from the one-key space the audit's sealing lock uses.
JOB_LOCKS = 8_317

P = ParamSpec("P")
R = TypeVar("R")


def _key(name: str) -> int:
    # crc32 is unsigned 32-bit; the lock's key is a signed int4.
    return zlib.crc32(name.encode()) - 2**31


@contextmanager
def lease(name: str) -> Iterator[bool]:
    """Yield True when this process holds the job `name` for the enclosed block, False when
    another run of it holds it now (then do nothing)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [JOB_LOCKS, _key(name)])
        held = bool(cursor.fetchone()[0])
    if not held:
        yield False
        return
    # The connection that took the lock must give it back: remember it, since the job may
    # close and reopen the thread's connection (then the server has released it already).
    holder = connection.connection
    try:
        yield True
    finally:
        # An aborted transaction accepts no statement: the lock then goes with the
        # connection, which Django closes after the task or the request.
        if connection.connection is holder and holder is not None and not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCKS, _key(name)])


def exclusive(name: str, *, busy: R) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a periodic job: it runs only while it holds the lease `name`; a run that
    finds the lease held returns `busy` at once."""

    def decorate(job: Callable[P, R]) -> Callable[P, R]:
        @wraps(job)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with lease(name) as held:
                return job(*args, **kwargs) if held else busy

        return run

    return decorate
