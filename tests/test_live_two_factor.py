"""Two-factor sign-in across real web processes (gunicorn, as in production): the password
given to one process and the code to another still sign in (the half-done sign-in lives in
the shared session store, not in a process); wrong codes spread over the processes meet the
one sign-in limit; and the demo's exemption holds in a demo process and nowhere else.

PostgreSQL only: the web processes need the test database too.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.contrib.auth.hashers import make_password
from django_otp.oath import totp

from tests.factories import PASSWORD
from tests.live import WebServer, database_url
from workflow.services import twofactor as service

pytestmark = pytest.mark.postgres

LIMIT = 5


@pytest.fixture
def servers(transactional_db: None, tmp_path: Path) -> Iterator[list[WebServer]]:
    """Two web processes in the demo's plain HTTP, without the demo users' exemption."""
    started = [
        WebServer(tmp_path / f"web{n}", database_url(), {"TWO_FACTOR_EXEMPT_DEMO_USERS": "0"})
        for n in range(2)
    ]
    try:
        for server in started:
            server.start()
        yield started
    finally:
        for server in started:
            server.kill_now()


@pytest.fixture
def enrolled_admin(cast, settings):
    """The cast's admin with an authenticator, and a password the processes can check (the
    tests' own hasher is a fast one they do not know)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    cast.admin.password = make_password(PASSWORD)
    cast.admin.save(update_fields=["password"])
    settings.TWO_FACTOR_EXEMPT_DEMO_USERS = False
    pending = service.pending_authenticator(cast.admin)
    device, _codes = service.enable(user=cast.admin, code=f"{totp(pending.bin_key):06d}")
    return device


def next_code(device) -> str:
    return f"{totp(device.bin_key, drift=1):06d}"


def wrong_code(device) -> str:
    valid = {f"{totp(device.bin_key, drift=ahead):06d}" for ahead in (-1, 0, 1, 2)}
    return next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in valid)


def password_step(session: requests.Session, server: WebServer) -> requests.Response:
    form = session.get(f"{server.url}/accounts/login/", timeout=30).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    return session.post(
        f"{server.url}/accounts/login/",
        data={"username": "admin", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
        allow_redirects=False,
        timeout=30,
    )


def code_step(session: requests.Session, server: WebServer, code: str) -> requests.Response:
    form = session.get(f"{server.url}/accounts/two-factor/verify/", timeout=30).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    return session.post(
        f"{server.url}/accounts/two-factor/verify/",
        data={"code": code, "csrfmiddlewaretoken": csrf},
        allow_redirects=False,
        timeout=30,
    )


def token(server: WebServer, **extra: str) -> int:
    response = requests.post(
        f"{server.url}/api/v1/auth/token/",
        json={"username": "admin", "password": PASSWORD, **extra},
        timeout=30,
    )
    return response.status_code


def test_the_password_on_one_process_and_the_code_on_another_sign_in(enrolled_admin, servers):
    session = requests.Session()

    assert password_step(session, servers[0]).headers["Location"] == "/accounts/two-factor/verify/"
    assert session.get(f"{servers[1].url}/admin/", allow_redirects=False).status_code == 302
    assert code_step(session, servers[1], next_code(enrolled_admin)).status_code == 302

    assert session.get(f"{servers[0].url}/admin/", allow_redirects=False).status_code == 200


def test_wrong_codes_spread_over_the_processes_meet_one_limit(enrolled_admin, servers):
    answers = [token(servers[n % 2], otp=wrong_code(enrolled_admin)) for n in range(LIMIT)]

    assert answers == [400] * (LIMIT - 1) + [429]
    assert [token(server, otp=next_code(enrolled_admin)) for server in servers] == [429, 429]


def test_a_demo_process_exempts_the_demo_admin_unless_told_not_to(
    transactional_db, cast, settings, tmp_path
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    cast.admin.password = make_password(PASSWORD)
    cast.admin.save(update_fields=["password"])
    demo = WebServer(tmp_path / "demo", database_url())  # DEMO_MODE=1, exemption by default
    strict = WebServer(tmp_path / "strict", database_url(), {"TWO_FACTOR_EXEMPT_DEMO_USERS": "0"})
    try:
        demo.start()
        strict.start()

        assert token(demo) == 200
        assert token(strict) == 400
    finally:
        demo.kill_now()
        strict.kill_now()
