"""Live services for tests: a private Redis on a free port and a real Celery worker process.

DESIGN.md: tests that stop a service start their own instance on a free port; the shared Redis
on 6379 is never touched. Import the fixtures where they are used, e.g.

    from tests.live import celery_worker, live_broker, redis_server  # noqa: F401

Fixtures (all function-scoped):

- ``redis_server`` -> RedisServer: a private redis-server, running, on a free 127.0.0.1 port.
- ``live_broker`` -> RedisServer: the same, with this test process's Django settings and Celery
  app pointed at it (not eager, no result backend); everything restored afterwards.
- ``web_servers`` -> [WebServer] * 3: gunicorn processes (one sync worker each) on free ports and
  the test database, plain HTTP. Depends on ``transactional_db``.
- ``several_processes`` -> Fleet: two web processes, three workers and two `celery beat`
  schedulers on the private Redis, the test database and one checkpoint file (this process's
  too); every periodic job due every second or two. Depends on ``transactional_db``.
- ``celery_worker`` -> CeleryWorker: a real worker subprocess (prefork, concurrency 1, embedded
  beat) on the private Redis and the test database, already answering ping. Depends on
  ``transactional_db``: rows the worker writes are visible to the test once committed.

Every process started here is stopped at teardown, even when the test fails, and at interpreter
exit as a last resort; each also gets a parent-death signal.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest

__all__ = [
    "REDIS_SERVER",
    "CeleryBeat",
    "CeleryWorker",
    "Fleet",
    "RedisServer",
    "WebServer",
    "celery_worker",
    "database_url",
    "free_port",
    "group_pids",
    "live_broker",
    "pid_alive",
    "port_open",
    "redis_server",
    "several_processes",
    "use_broker",
    "wait_for",
    "web_servers",
]

REDIS_SERVER = "/usr/bin/redis-server"
PROJECT_DIR = Path(__file__).resolve().parent.parent
VISIBILITY_TIMEOUT = 5

T = TypeVar("T")

# --- Small helpers --------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def pid_alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (exited, waiting to be reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_stat(pid)[0] not in ("Z", "X", "")


def _proc_stat(pid: int) -> tuple[str, int]:
    """(state, process group) of pid from /proc, or ("", -1) if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "", -1
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces
    return fields[0], int(fields[2])


def group_pids(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group pgid."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            state, group = _proc_stat(int(entry.name))
            if group == pgid and state not in ("Z", "X"):
                pids.append(int(entry.name))
    return sorted(pids)


def wait_for(
    predicate: Callable[[], T],
    timeout: float = 30,
    interval: float = 0.2,
    message: str | Callable[[], str] = "",
) -> T:
    """Call predicate until it returns something truthy, and return that; fail after timeout.

    Exceptions from predicate propagate (they are bugs, not "not yet").
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            name = getattr(predicate, "__name__", repr(predicate))
            raise AssertionError(f"timed out after {timeout}s waiting for {name}. {text}".strip())
        time.sleep(interval)


def _parent_death_signal(sig: int) -> Callable[[], None]:
    """A preexec_fn: the child gets `sig` if the test process dies (Linux); else a no-op."""

    def set_it() -> None:
        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(1, int(sig))  # PR_SET_PDEATHSIG

    return set_it


def _become_subreaper() -> None:
    """Orphans of our children (a killed worker's pool and beat processes) are re-parented to
    this process rather than to PID 1, so that `_reap` can collect them: PID 1 in a container
    often never reaps, which leaves zombies that still answer os.kill(pid, 0). Linux only."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER


def _reap(pids: list[int]) -> None:
    """Collect those of pids that are exited children of this process (zombies)."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


# Anything still running when the interpreter exits is killed here (last resort).
_RUNNING: dict[int, Any] = {}


@atexit.register
def _kill_leftovers() -> None:
    for thing in list(_RUNNING.values()):
        with contextlib.suppress(Exception):
            thing.kill_now()


def _tail(text: str, lines: int = 200) -> str:
    return "\n".join(text.splitlines()[-lines:])


# --- Redis ----------------------------------------------------------------------------------


class RedisServer:
    """A private redis-server: no persistence, own directory, fixed port once chosen."""

    def __init__(self, directory: Path, port: int | None = None, executable: str = REDIS_SERVER):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.executable = executable
        self._port_given = port is not None
        self.port = port if port is not None else free_port()
        self.log_path = self.directory / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def client(self, **kwargs: Any) -> Any:
        """A redis-py client; fails at once when the server is down (redis-py 8 would
        otherwise retry 10 times with backoff, ~4 s)."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        kwargs.setdefault("retry", Retry(NoBackoff(), 0))
        kwargs.setdefault("socket_timeout", 5)
        kwargs.setdefault("socket_connect_timeout", 2)
        return redis.Redis(host="127.0.0.1", port=self.port, db=0, **kwargs)

    def ping(self) -> bool:
        import redis

        try:
            with self.client(socket_timeout=1, socket_connect_timeout=1) as c:
                return bool(c.ping())
        except redis.RedisError:
            return False

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 10) -> RedisServer:
        """Start on self.port (a fresh free port if the first start finds it taken)."""
        if self.running:
            return self
        for attempt in range(3):
            if self._try_start(timeout):
                return self
            if self._port_given or attempt == 2:
                break
            self.port = free_port()  # lost a race for the port before the first start
        raise RuntimeError(f"redis-server did not start on {self.port}:\n{_tail(self.log_text())}")

    def _try_start(self, timeout: float) -> bool:
        if port_open(self.port):
            return False
        cmd = [
            self.executable,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(self.directory),
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed executable and arguments
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                start_new_session=True,
                preexec_fn=_parent_death_signal(signal.SIGKILL),
            )
        _RUNNING[id(self)] = self
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                _RUNNING.pop(id(self), None)
                return False
            if self.ping():
                return True
            time.sleep(0.05)
        self.kill_now()
        return False

    def stop(self, timeout: float = 10) -> None:
        """Stop (SIGTERM, then SIGKILL) and wait until the port is closed."""
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        _RUNNING.pop(id(self), None)
        wait_for(
            lambda: not port_open(self.port),
            timeout=timeout,
            interval=0.05,
            message=f"port {self.port} still open after redis-server stopped",
        )

    def restart(self) -> RedisServer:
        self.stop()
        return self.start()

    def kill_now(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
        _RUNNING.pop(id(self), None)

    def __repr__(self) -> str:
        return f"<RedisServer {self.url} {'running' if self.running else 'stopped'}>"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private, running redis-server on a free port; stopped at teardown."""
    server = RedisServer(tmp_path / "redis")
    try:
        server.start()
        yield server
    finally:
        server.stop()


# --- Pointing this process at the private broker -------------------------------------------


def _close_app_pools(app: Any) -> None:
    """Drop every cached broker connection and producer of this process."""
    from kombu import pools

    amqp = app.__dict__.get("amqp")
    if amqp is not None and amqp._producer_pool is not None:
        with contextlib.suppress(Exception):
            amqp._producer_pool.force_close_all()
        amqp._producer_pool = None
    if app._pool is not None:
        with contextlib.suppress(Exception):
            app._pool.force_close_all()
        app._pool = None
    pools.reset()  # kombu's global pools are keyed by URL: a closed one must not be reused


@contextlib.contextmanager
def use_broker(url: str, settings: Any = None, app: Any = None) -> Iterator[Any]:
    """Point the Celery app (and, given pytest-django's `settings`, Django settings) at url.

    Tasks are no longer eager and there is no result backend; on exit the previous values
    come back and every cached connection is closed. Yields the app.
    """
    if app is None:
        from config.celery import app
    app.conf.broker_url  # noqa: B018 - load the configuration from settings before saving it
    transport_options = {
        **(app.conf.broker_transport_options or {}),
        "visibility_timeout": VISIBILITY_TIMEOUT,
    }
    # Saved before Django's settings change: the app reads through to them, and saving after
    # would pin the private broker's address for the rest of the session.
    saved = {
        key: app.conf.get(key)
        for key in (
            "broker_url",
            "broker_read_url",
            "broker_write_url",
            "result_backend",
            "task_always_eager",
            "broker_transport_options",
        )
    }
    if settings is not None:
        settings.REDIS_URL = url
        settings.CELERY_BROKER_URL = url
        settings.CELERY_TASK_ALWAYS_EAGER = False
        settings.CELERY_RESULT_BACKEND = None
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = transport_options
    new = {
        "broker_url": url,
        "broker_read_url": None,
        "broker_write_url": None,
        "result_backend": None,
        "task_always_eager": False,
        "broker_transport_options": transport_options,
    }
    _close_app_pools(app)
    app.conf.update(new)
    try:
        yield app
    finally:
        _close_app_pools(app)
        app.conf.update(saved)


@pytest.fixture
def live_broker(redis_server: RedisServer, settings: Any) -> Iterator[RedisServer]:
    """The private Redis, with this process's settings and Celery app pointed at it."""
    with use_broker(redis_server.url, settings):
        yield redis_server


# --- The worker -----------------------------------------------------------------------------


def database_url() -> str:
    """A DATABASE_URL for the database this process uses now (the test database in tests)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail(
            "a live worker needs a database shared between processes: "
            "run on PostgreSQL and mark the test @pytest.mark.postgres"
        )
    sd = connection.settings_dict
    user = quote(sd.get("USER") or "", safe="")
    if sd.get("PASSWORD"):
        user += ":" + quote(sd["PASSWORD"], safe="")
    host = sd.get("HOST") or "127.0.0.1"
    port = sd.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{quote(sd['NAME'], safe='')}"


class CeleryWorker:
    """`celery -A config worker -B` (prefork, concurrency 1) as a subprocess of its own group."""

    _numbers = itertools.count(1)

    def __init__(
        self,
        directory: Path,
        broker_url: str,
        db_url: str,
        *,
        app: Any = None,
        extra_env: dict[str, str] | None = None,
        embedded_beat: bool = True,
    ):
        from celery.utils.nodenames import host_format

        if app is None:
            from config.celery import app
        self.app = app
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.broker_url = broker_url
        self.database_url = db_url
        self.number = next(self._numbers)
        self.hostname_template = f"test-worker-{self.number}@%h"
        self.hostname = host_format(self.hostname_template)
        self.mail_dir = self.directory / "mail"
        self.checkpoint_file = self.directory / "checkpoints.log"
        self.schedule_file = self.directory / "beat-schedule"
        self.log_path = self.directory / "worker.log"
        self.extra_env = dict(extra_env or {})
        self.embedded_beat = embedded_beat
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.seen_pids: set[int] = set()

    # The command and its environment.

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "REDIS_URL": self.broker_url,
                "DATABASE_URL": self.database_url,
                "OUTBOX_SWEEP_SECONDS": "2",
                "DEADLINE_SWEEP_SECONDS": "2",
                "CHECKPOINT_SECONDS": "3600",
                "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(self.mail_dir),
                "AUDIT_CHECKPOINT_FILE": str(self.checkpoint_file),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    @property
    def command(self) -> list[str]:
        beat = ["-B", "--schedule", str(self.schedule_file)] if self.embedded_beat else []
        return [
            sys.executable, "-m", "celery", "-A", "config", "worker", *beat,
            "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle",
            "--hostname", self.hostname_template,
        ]  # fmt: skip

    # State.

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> list[int]:
        """The worker's live processes: main, pool child(ren), beat. Recorded in seen_pids."""
        if self.process is None:
            return []
        found = group_pids(self.process.pid)
        self.seen_pids.update(found)
        return found

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 200) -> str:
        return _tail(self.log_text(), lines)

    def ping(self, timeout: float = 1.0) -> bool:
        """Whether this worker answers a control ping through the broker now."""
        try:
            replies = self.app.control.ping(timeout=timeout, destination=[self.hostname])
        except Exception:  # broker down or reconnecting: not answering
            return False
        return any(self.hostname in reply for reply in replies or [])

    def conf(self, timeout: float = 2.0) -> dict[str, Any]:
        """The worker's own configuration, asked over the broker (inspect.conf): with the
        Django namespace that is the worker's Django settings (CELERY_* keys included, secrets
        masked), e.g. conf()["DATABASES"]["default"]["NAME"]."""
        replies = self.app.control.inspect(destination=[self.hostname], timeout=timeout).conf(
            with_defaults=False
        )
        if not replies or self.hostname not in replies:
            raise AssertionError(f"{self.hostname} did not answer inspect.conf()")
        return replies[self.hostname]

    def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 30,
        interval: float = 0.2,
        message: str = "",
    ) -> T:
        """tests.live.wait_for, failing with the worker's log."""
        return wait_for(
            predicate,
            timeout,
            interval,
            lambda: f"{message}\n--- worker log ({self.log_path}) ---\n{self.log_tail()}",
        )

    def wait_until_ready(self, timeout: float = 30) -> None:
        def answers() -> bool:
            if self.process is None or self.process.poll() is not None:
                raise AssertionError(
                    f"worker exited with {self.process and self.process.returncode}:\n"
                    f"{self.log_tail()}"
                )
            return self.ping(timeout=0.5)

        self.wait_for(answers, timeout=timeout, interval=0.1, message="worker never answered ping")
        self.pids()

    # Life cycle.

    def start(self, timeout: float = 30) -> CeleryWorker:
        """Start the worker and wait until it answers ping (else fail with its log)."""
        if self.running:
            return self
        self.launch()
        try:
            self.wait_until_ready(timeout)
        except BaseException:
            self.kill_now()
            raise
        return self

    def launch(self) -> CeleryWorker:
        """Start the process and return at once (several start faster side by side); then
        wait_until_ready."""
        self.starts += 1
        _become_subreaper()
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start {self.starts}: {' '.join(self.command)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                self.command,
                cwd=PROJECT_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_parent_death_signal(signal.SIGTERM),
            )
        _RUNNING[id(self)] = self
        return self

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 10) -> list[int]:
        """Send sig to the worker's whole process group and wait until every process is gone.

        Returns the pids that were killed.
        """
        if self.process is None:
            return []
        pids = self.pids()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_now()
        wait_for(
            lambda: _reap(pids) or not any(pid_alive(pid) for pid in pids),
            timeout=timeout,
            interval=0.05,
            message=f"worker processes {pids} outlived signal {sig}",
        )
        _reap(pids)
        _RUNNING.pop(id(self), None)
        return pids

    def stop(self, timeout: float = 15) -> None:
        """Warm shutdown (SIGTERM); SIGKILL for the whole group after timeout or leftovers."""
        if self.process is None:
            return
        self.pids()
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        self.kill_now()

    def restart(self, timeout: float = 30) -> CeleryWorker:
        """Stop if running (warm), then start again with the same hostname and files."""
        if self.running:
            self.stop()
        return self.start(timeout)

    def kill_now(self) -> None:
        """SIGKILL to the group, reap the main process; no waiting for the broker."""
        if self.process is None:
            return
        pids = self.pids()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        deadline = time.monotonic() + 5
        while any(pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.02)
        _reap(pids)
        _RUNNING.pop(id(self), None)

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<CeleryWorker {self.hostname} {state}>"


class CeleryBeat(CeleryWorker):
    """`celery -A config beat` as a process of its own: a scheduler sending the periodic jobs
    to the broker, as the compose file's `beat` service does. Two of them are two schedulers
    started by mistake."""

    @property
    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
            "--schedule", str(self.schedule_file),
        ]  # fmt: skip

    def sent(self, entry: str) -> int:
        """How many times this scheduler has sent the job named `entry` (CELERY_BEAT_SCHEDULE)."""
        return self.log_text().count(f"Sending due task {entry} ")

    def wait_until_ready(self, timeout: float = 30) -> None:
        def started() -> bool:
            if self.process is None or self.process.poll() is not None:
                raise AssertionError(
                    f"beat exited with {self.process and self.process.returncode}:\n"
                    f"{self.log_tail()}"
                )
            return "beat: Starting..." in self.log_text()

        self.wait_for(started, timeout=timeout, interval=0.1, message="beat never started")
        self.pids()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<CeleryBeat {state}>"


@pytest.fixture
def celery_worker(
    transactional_db: None, live_broker: RedisServer, tmp_path: Path, request: Any
) -> Iterator[CeleryWorker]:
    """A running worker on the private Redis and the test database; killed at teardown.

    Extra worker environment: define a fixture named `celery_worker_env` (returning a dict,
    e.g. {"OUTBOX_REDISPATCH_SECONDS": "3"}) in the test module or a conftest; optional.

    Teardown is SIGKILL to the whole group (the broker and the database are thrown away
    next, so a warm shutdown would only cost ~2 s). The worker's log is printed at teardown:
    pytest shows it when the test failed.
    """
    try:
        extra_env = request.getfixturevalue("celery_worker_env")
    except pytest.FixtureLookupError:
        extra_env = {}
    worker = CeleryWorker(tmp_path / "worker", live_broker.url, database_url(), extra_env=extra_env)
    announce_existing_heads()
    try:
        worker.start()
        yield worker
    finally:
        worker.kill_now()
        print(f"--- worker log ({worker.log_path}) ---\n{worker.log_tail()}")


def announce_existing_heads() -> None:
    """The events written before this process was pointed at the broker (the test's setup)
    were written by an application without one: announce their heads, as a deployment's
    broker would hold them, so that the worker's seals do not take them for forgeries."""
    from workflow import announcements
    from workflow.models import AuditChain

    heads = {c.stream: [c.length, c.head_hash] for c in AuditChain.objects.all()}
    assert announcements.announce(heads), "could not announce the existing heads"


# --- Web processes --------------------------------------------------------------------------


class WebServer:
    """`gunicorn config.wsgi` (one sync worker) as a process of its own on a free port, on the
    test database: several of them are several web processes, as in production."""

    def __init__(
        self,
        directory: Path,
        db_url: str,
        extra_env: dict[str, str] | None = None,
        *,
        threads: int = 1,
    ):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.database_url = db_url
        self.extra_env = dict(extra_env or {})
        self.threads = threads
        self.port = free_port()
        self.log_path = self.directory / "gunicorn.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> WebServer:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DATABASE_URL": self.database_url,
                "DEMO_MODE": "1",  # plain HTTP on loopback
                "AUDIT_CHECKPOINT_FILE": str(self.directory / "checkpoints.log"),
                "PYTHONUNBUFFERED": "1",
                **self.extra_env,
            }
        )
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--timeout", "60",
            "--threads", str(self.threads),
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command,
                cwd=PROJECT_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_parent_death_signal(signal.SIGTERM),
            )
        _RUNNING[id(self)] = self
        wait_for(
            lambda: port_open(self.port),
            timeout=timeout,
            interval=0.1,
            message=lambda: f"gunicorn never listened:\n{_tail(self.log_text())}",
        )
        return self

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        self.kill_now()

    def restart(self) -> WebServer:
        self.stop()
        return self.start()

    def kill_now(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        _RUNNING.pop(id(self), None)

    def __repr__(self) -> str:
        return f"<WebServer {self.url}>"


@pytest.fixture
def web_servers(transactional_db: None, tmp_path: Path) -> Iterator[list[WebServer]]:
    """Three web processes on the test database, stopped at teardown."""
    servers = [WebServer(tmp_path / f"web{n}", database_url()) for n in range(3)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.kill_now()


# --- Several of each at once ------------------------------------------------------------------


@dataclass
class Fleet:
    """Web processes, workers and beat schedulers on one database, one broker and one
    checkpoint file (the compose file's `audit-seals` volume)."""

    web: list[WebServer]
    workers: list[CeleryWorker]
    beats: list[CeleryBeat]
    checkpoint_file: Path

    def everyone(self) -> list[Any]:
        return [*self.web, *self.workers, *self.beats]

    def mails(self) -> list[Path]:
        """The e-mail files every worker wrote (Django's file backend)."""
        return sorted(p for w in self.workers if w.mail_dir.exists() for p in w.mail_dir.iterdir())

    def logs(self) -> str:
        return "\n".join(
            f"--- {thing!r} ---\n{_tail(thing.log_text(), 60)}" for thing in self.everyone()
        )


@pytest.fixture
def several_processes(
    transactional_db: None, live_broker: RedisServer, tmp_path: Path, request: Any, settings: Any
) -> Iterator[Fleet]:
    """Two web processes, three workers (no embedded beat) and two `celery beat` processes,
    all running; killed at teardown, their logs printed (pytest shows them on failure).

    Each periodic job is due every second or two (override with a fixture named
    `several_processes_env` returning a dict of settings).
    """
    try:
        extra = request.getfixturevalue("several_processes_env")
    except pytest.FixtureLookupError:
        extra = {}
    checkpoint_file = tmp_path / "audit-seals" / "checkpoints.log"
    settings.AUDIT_CHECKPOINT_FILE = checkpoint_file  # this process's too
    env = {
        "AUDIT_CHECKPOINT_FILE": str(checkpoint_file),
        "OUTBOX_SWEEP_SECONDS": "1",
        "DEADLINE_SWEEP_SECONDS": "1",
        "CHECKPOINT_SECONDS": "1",
        "OUTBOX_REDISPATCH_SECONDS": "2",
        **extra,
    }
    url = database_url()
    fleet = Fleet(
        web=[
            WebServer(tmp_path / f"web{n}", url, {**env, "REDIS_URL": live_broker.url})
            for n in range(2)
        ],
        workers=[
            CeleryWorker(
                tmp_path / f"worker{n}", live_broker.url, url, extra_env=env, embedded_beat=False
            )
            for n in range(3)
        ],
        beats=[
            CeleryBeat(tmp_path / f"beat{n}", live_broker.url, url, extra_env=env) for n in range(2)
        ],
        checkpoint_file=checkpoint_file,
    )
    announce_existing_heads()
    try:
        for process in [*fleet.workers, *fleet.beats]:
            process.launch()
        for server in fleet.web:
            server.start(timeout=60)
        for process in [*fleet.workers, *fleet.beats]:
            process.wait_until_ready(timeout=60)
        yield fleet
    finally:
        for thing in fleet.everyone():
            thing.kill_now()
        print(fleet.logs())
