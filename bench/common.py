"""What every bench shares: its own throwaway database, percentiles, memory per process.

Each bench imports this first (it sets Django up), then runs `main` inside `throwaway_database`:
the test database machinery makes a fresh database (`test_` + the configured name) and drops it
at the end, whatever happens.
"""

import contextlib
import os
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench/http.py is named like the standard library's `http`: a script run from this folder
# must not find it there (Django imports `http.cookies`). Benches import as `bench.x`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Plain HTTP for the in-process client and the load generator, as on one machine.
os.environ.setdefault("DEMO_MODE", "1")

import django  # noqa: E402

django.setup()

from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
)


@contextlib.contextmanager
def throwaway_database() -> Iterator[None]:
    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        teardown_databases(old, verbosity=0)


def require_postgresql(name: str) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit(f"{name} measures PostgreSQL: set DATABASE_URL=postgres://...")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _processes() -> Iterator[tuple[int, str, list[str]]]:
    """Each live process: its id, its command's name and the fields of /proc/<pid>/stat after
    the name (the state first)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            name = raw[raw.index("(") + 1 : raw.rindex(")")]
            yield int(entry.name), name, raw[raw.rindex(")") + 2 :].split()


def children(pid: int) -> list[int]:
    """The direct children of a process (a gunicorn master's workers, a celery pool)."""
    return sorted(child for child, _name, fields in _processes() if int(fields[1]) == pid)


def cpu_seconds_of(command: str) -> float:
    """The CPU seconds (user and system) spent so far by the processes named `command` (a
    PostgreSQL server's backends and workers, say), those that have ended included (in their
    parent's count of its children); on this machine only."""
    ticks = sum(
        sum(int(n) for n in fields[11:15]) for _pid, name, fields in _processes() if name == command
    )
    return ticks / os.sysconf("SC_CLK_TCK")


def database_url() -> str:
    from django.db import connection

    sd = connection.settings_dict
    user = sd.get("USER") or ""
    if sd.get("PASSWORD"):
        user += ":" + sd["PASSWORD"]
    return (
        f"postgres://{user}@{sd.get('HOST') or '127.0.0.1'}:{sd.get('PORT') or 5432}/{sd['NAME']}"
    )
