"""Three web processes share one sign-in limit (issue 7, point 4): the counts live in the
database, not in a process, so spreading guesses over the processes buys nothing, a restart
forgets nothing, and one account's failures never block another account.

PostgreSQL only: the web processes need the test database too.
"""

# ruff: noqa: F811 - the fixtures imported from tests.live are redefined as test parameters

import re

import pytest
import requests
from django.contrib.auth.hashers import make_password

from tests.factories import PASSWORD
from tests.live import web_servers  # noqa: F401 - fixture
from workflow import audit
from workflow.models import AuditEvent
from workflow.services.signin import SIGN_IN_FAILED

pytestmark = pytest.mark.postgres

LIMIT = 5


@pytest.fixture
def accounts(cast, settings):
    """The cast's passwords hashed as the web processes hash them (the tests' own hasher
    is a fast one the processes do not know)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    hashed = make_password(PASSWORD)
    for user in (cast.admin, cast.org_reviewer):
        user.password = hashed
        user.save(update_fields=["password"])
    return cast


def token(server, username: str, password: str) -> int:
    response = requests.post(
        f"{server.url}/api/v1/auth/token/",
        json={"username": username, "password": password},
        timeout=30,
    )
    return response.status_code


def page(server, username: str, password: str) -> int:
    session = requests.Session()
    form = session.get(f"{server.url}/accounts/login/", timeout=30).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = session.post(
        f"{server.url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
        allow_redirects=False,
        timeout=30,
    )
    return response.status_code


def test_guesses_spread_over_three_processes_meet_one_limit(accounts, web_servers):
    answers = [
        (token if n % 2 else page)(web_servers[n % 3], "admin", f"guess{n}") for n in range(LIMIT)
    ]

    assert answers[-1] == 429, answers
    assert [token(server, "admin", PASSWORD) for server in web_servers] == [429] * 3
    assert [page(server, "admin", PASSWORD) for server in web_servers] == [429] * 3


def test_a_restarted_process_still_knows_the_lockout(accounts, web_servers):
    for n in range(LIMIT):
        token(web_servers[n % 3], "admin", "wrong")

    web_servers[0].restart()

    assert token(web_servers[0], "admin", PASSWORD) == 429


def test_one_accounts_failures_never_block_another_account_in_any_process(accounts, web_servers):
    for n in range(LIMIT * 3):
        token(web_servers[n % 3], "admin", "wrong")

    assert [token(server, "org_reviewer", PASSWORD) for server in web_servers] == [200] * 3
    assert page(web_servers[1], "org_reviewer", PASSWORD) == 302


def test_every_processs_failures_are_in_the_one_audit_log(accounts, web_servers):
    for server in web_servers:
        token(server, "org_reviewer", "wrong")

    failed = AuditEvent.objects.filter(
        stream=audit.user_stream(accounts.org_reviewer.pk), action=SIGN_IN_FAILED
    )
    assert failed.count() == 3
    assert audit.verify().ok
