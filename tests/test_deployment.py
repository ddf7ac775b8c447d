"""Production posture and the demo (DESIGN.md, "Settings"): with neither DEBUG nor DEMO_MODE the
product is HTTPS only and `check --deploy` is clean given only SECRET_KEY and ALLOWED_HOSTS;
DEMO_MODE=1 (`make demo`) serves plain HTTP on one machine and lets seed_demo create its known
passwords. Each runs as a process of its own with an environment built from nothing, as an
operator would start it (the rest of the suite turns the HTTPS-only settings off in-process:
tests/conftest.py, plain_http). The compose file's secrets come from the environment."""

import http.client
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.live import free_port, port_open, wait_for

PROJECT = Path(__file__).resolve().parent.parent
HOST = "budget.example.org"
HTTPS_ONLY_SETTINGS = (
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
)


def environment(**extra: str) -> dict[str, str]:
    """Only SECRET_KEY and ALLOWED_HOSTS (and PATH), plus what the test adds."""
    return {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": f"{HOST},127.0.0.1",
        **extra,
    }


def manage(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=environment(**extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def python(code: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """Our interpreter running `code` in the project, with only `environment()`."""
    return subprocess.run(  # noqa: S603 - our own interpreter; the code is the test's
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def posture(**extra: str) -> dict[str, object]:
    """The HTTPS-only settings as a process started with this environment sees them."""
    names = ", ".join(repr(name) for name in HTTPS_ONLY_SETTINGS)
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in ({names},)}}))"
    )
    result = manage("shell", "--verbosity", "0", "-c", code, **extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- Settings ---------------------------------------------------------------------------------


def test_check_deploy_is_clean_given_only_secret_key_and_allowed_hosts():
    result = manage("check", "--deploy")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert "WARNING" not in result.stderr


def database_options(**extra: str) -> dict[str, object]:
    """The PostgreSQL connection's OPTIONS as a process started with this environment sees them."""
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
    )
    url = "postgres://budget@db.example:5432/budget"
    result = manage("shell", "--verbosity", "0", "-c", code, DATABASE_URL=url, **extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_postgresql_connections_prepare_the_statements_asked_for_by_default():
    assert isinstance(database_options()["prepare_threshold"], int)


def test_a_pooler_without_prepared_statements_can_turn_them_off():
    # PgBouncer in transaction mode before 1.21 cannot keep a session's prepared statements.
    assert database_options(DB_PREPARED_STATEMENTS="0")["prepare_threshold"] is None


def test_a_web_process_loads_its_views_at_start_and_freezes_them():
    # Frozen, what the process loaded is out of the way of every full garbage collection.
    code = (
        "import gc, sys, config.wsgi; "
        "print(gc.get_freeze_count() > 0, 'submissions.api' in sys.modules)"
    )
    result = python(code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def compose_app_environment() -> dict[str, str]:
    """The web service's environment in docker-compose.yml (the README's production stack),
    as compose would resolve it: each required secret set, each optional one its default."""

    def resolve(match: re.Match[str]) -> str:
        kind, default = match["kind"], match["rest"]
        return secrets.token_urlsafe(50) if kind == ":?" else default

    pattern = re.compile(r"\$\{(?P<name>[A-Z_]+)(?P<kind>:\?|:-)(?P<rest>[^}]*)\}")
    return {
        name: pattern.sub(resolve, str(value))
        for name, value in COMPOSE["services"]["web"]["environment"].items()
    }


def test_check_deploy_is_clean_with_the_production_stacks_settings():
    # Every setting the compose file gives the web app (proxy header, health token, the
    # checkpoint file, the databases' URLs, ...), with ALLOWED_HOSTS named as the README says.
    result = manage("check", "--deploy", **{**compose_app_environment(), "ALLOWED_HOSTS": HOST})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert "WARNING" not in result.stderr


def test_production_posture_is_https_only():
    settings = posture()

    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600


@pytest.mark.parametrize("switch", ["DEMO_MODE", "DEBUG"])
def test_the_demo_and_development_turn_the_https_only_settings_off(switch):
    settings = posture(**{switch: "1"})

    assert settings == {
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
    }


# --- Serving ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A migrated SQLite file of this module's own (never the shared db.sqlite3)."""
    path = tmp_path_factory.mktemp("posture") / "migrated.sqlite3"
    result = manage("migrate", "--verbosity", "0", SQLITE_PATH=str(path), DEMO_MODE="1")
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def database(migrated, tmp_path) -> Path:
    """A copy of the migrated database for one test."""
    return Path(shutil.copy(migrated, tmp_path / "db.sqlite3"))


def runserver(database: Path, **extra: str) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=PROJECT,
        env=environment(SQLITE_PATH=str(database), **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: port_open(port) or process.poll() is not None,
            message="runserver did not start",
        )
        assert process.poll() is None, process.communicate()[1]
        yield port
    finally:
        process.terminate()
        process.communicate(timeout=10)


@pytest.fixture(scope="module")
def demo_server(migrated) -> Iterator[int]:
    yield from runserver(migrated, DEMO_MODE="1")


@pytest.fixture(scope="module")
def production_server(migrated) -> Iterator[int]:
    yield from runserver(migrated)


def fetch(port: int, path: str) -> http.client.HTTPResponse:
    """One plain-HTTP GET, redirects not followed, as the browser of an operator's user."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": HOST})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_the_demo_serves_its_pages_over_plain_http(demo_server):
    response = fetch(demo_server, "/")

    assert response.status == 200
    assert b'name="password"' in response.body
    cookie = response.getheader("Set-Cookie")
    assert "csrftoken=" in cookie and "secure" not in cookie.lower()
    assert response.getheader("Strict-Transport-Security") is None


def test_production_posture_redirects_pages_to_https(production_server):
    response = fetch(production_server, "/accounts/login/")

    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/accounts/login/"


def test_production_posture_answers_healthz_over_plain_http_with_only_the_status(
    production_server,
):
    # Load balancers and compose's health check probe plain HTTP inside the network
    # (SECURE_REDIRECT_EXEMPT); an anonymous caller learns only up or down.
    response = fetch(production_server, "/healthz")

    assert response.status == 200
    assert json.loads(response.body) == {"ok": True}


# --- seed_demo --------------------------------------------------------------------------------


def users_in(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT username FROM auth_user")]


def test_seed_demo_refuses_in_production_posture_with_a_non_zero_exit_saying_why(database):
    result = manage("seed_demo", SQLITE_PATH=str(database))

    assert result.returncode != 0
    assert "DEMO_MODE=1" in result.stderr
    assert users_in(database) == []


def test_seed_demo_creates_the_demo_users_in_demo_mode(database):
    result = manage("seed_demo", SQLITE_PATH=str(database), DEMO_MODE="1")

    assert result.returncode == 0, result.stderr
    assert "admin" in users_in(database)


# --- docker-compose ---------------------------------------------------------------------------

COMPOSE = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())
# ${NAME:?message}: compose refuses to start, with the message, while NAME is unset or empty.
REQUIRED = re.compile(r"^\$\{(?P<name>[A-Z_]+):\?[^}]+\}$")


def environments() -> Iterator[tuple[str, str, str]]:
    """(service, variable, value) for every service, the shared anchor's values included."""
    for service, spec in COMPOSE["services"].items():
        for name, value in (spec.get("environment") or {}).items():
            yield service, name, str(value)


def test_compose_takes_every_database_password_from_the_environment():
    passwords = []
    for service, name, value in environments():
        url = re.match(r"^postgres://(?P<user>[^:@/]+):(?P<password>[^@]+)@", value)
        if url:
            passwords.append((service, name, url["password"]))
        elif name.endswith("PASSWORD"):
            passwords.append((service, name, value))

    assert {(service, name) for service, name, _ in passwords} >= {
        ("db", "POSTGRES_PASSWORD"),
        ("db", "DB_APP_PASSWORD"),
        ("migrate", "DATABASE_URL"),
        ("web", "DATABASE_URL"),
        ("worker", "DATABASE_URL"),
        ("beat", "DATABASE_URL"),
    }
    for service, name, password in passwords:
        assert REQUIRED.match(password), f"{service}.{name} holds a password literal"


def test_compose_refuses_to_start_without_the_secret_key():
    keys = [value for _, name, value in environments() if name == "SECRET_KEY"]

    assert keys and all(REQUIRED.match(value) for value in keys)


def test_the_database_init_script_holds_no_password_and_refuses_to_run_without_one(tmp_path):
    script = PROJECT / "config" / "postgres-init.sh"
    mounted = [v for v in COMPOSE["services"]["db"]["volumes"] if "docker-entrypoint-initdb" in v]
    assert mounted == [f"./config/{script.name}:/docker-entrypoint-initdb.d/10-app-role.sh:ro"]
    assert not re.search(r"PASSWORD\s+'", script.read_text())

    # Unset, it stops before psql runs (an empty PATH: nothing else could run either).
    result = subprocess.run(  # noqa: S603 - the project's own script
        ["/bin/sh", str(script)],
        env={"PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "DB_APP_PASSWORD" in result.stderr


def test_the_compose_web_health_check_passes_over_plain_http_in_production_posture(
    production_server,
):
    command = COMPOSE["services"]["web"]["healthcheck"]["test"]
    assert command[:3] == ["CMD", "python", "-c"]
    # The same probe, pointed at this test's server instead of the container's port 8000.
    code = command[3].replace("127.0.0.1:8000", f"127.0.0.1:{production_server}")

    result = python(code, timeout=30)

    assert result.returncode == 0, result.stderr
