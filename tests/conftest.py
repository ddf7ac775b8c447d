"""Shared setup: the demo cast of users and departments, API clients, and the database
switches (tests marked `postgres` run only on PostgreSQL, `sqlite` only on SQLite: they are
deselected, not skipped, on the other; the README's test command runs the suite on both)."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pgtrigger
import pytest
from django.core.cache import cache
from django.core.management.commands import flush
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from submissions.models import Department, ProjectText
from tests.factories import DepartmentFactory, act, make_text, make_user
from workflow import audit
from workflow.machine import forget_machines
from workflow.states import Administrator, Role


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    vendor = connection.vendor
    unwanted = "sqlite" if vendor == "postgresql" else "postgres"
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker(unwanted) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# Transactional tests end with a flush, which TRUNCATEs (SQLite: DELETEs) every table; the
# audit table's triggers refuse that, as they must in production. Let the test harness
# (only) through.
_original_flush = flush.Command.handle


def _flush_ignoring_triggers(self: flush.Command, **options: Any) -> None:
    if connection.vendor == "sqlite":
        # SQLite's own append-only triggers (pgtrigger does nothing there) refuse the
        # flush's DELETEs: drop them for it and put them back.
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
        try:
            return _original_flush(self, **options)
        finally:
            with connection.cursor() as cursor:
                for _name, sql in triggers:
                    cursor.execute(sql)
    with pgtrigger.ignore():
        return _original_flush(self, **options)


flush.Command.handle = _flush_ignoring_triggers


@pytest.fixture(scope="session", autouse=True)
def plain_http() -> Iterator[None]:
    """The suite runs in production posture (no DEBUG, no DEMO_MODE: DESIGN.md, "Settings"),
    but Django's test client and the live server speak plain HTTP, so the HTTPS-only settings
    are off for them. Session-scoped, because the live server's middleware reads them once,
    when it starts. tests/test_deployment.py checks the posture itself, in processes of its
    own; a test may turn a setting back on with `settings`."""
    with override_settings(
        SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False
    ):
        yield


@pytest.fixture(autouse=True)
def test_settings(settings, tmp_path) -> None:
    # The real hasher costs ~0.3 s a user on these machines; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Each test seals the audit log into a file of its own.
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.log"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Login failures are counted in the cache: each test starts with none.
    cache.clear()
    # A rolled-back test's workflow versions leave their machines cached under ids that the
    # next test's versions may reuse (SQLite hands out a rolled-back id again).
    forget_machines()
    # A window-end seal timer an earlier test started must not fire during this one.
    audit.cancel_pending_seal()
    # The cast carries seed_demo's names and, as in the demo, signs in with its password
    # alone: the suite's admin and auditor need no authenticator. Outside the suite only
    # DEMO_MODE turns this on (config/settings.py); tests/test_two_factor.py turns it off.
    # Any other administrator a test makes signs in with a code: tests.factories.sign_in_with_code.
    settings.TWO_FACTOR_EXEMPT_DEMO_USERS = True


@dataclass
class Cast:
    """The demo's departments and people (DESIGN.md, seed_demo)."""

    org: Department
    edu: Department
    org_drafter: Any
    org_reviewer: Any
    edu_drafter: Any
    edu_reviewer: Any
    finance: Any
    approver: Any
    auditor: Any
    admin: Any

    def text(self, **overrides: Any) -> ProjectText:
        """A complete draft of `org`, written by org_drafter."""
        return make_text(self.org_drafter, self.org, **overrides)

    def text_in(self, state: str, **overrides: Any) -> ProjectText:
        """A text of `org` brought to `state` by the demo users, through the service."""
        text = self.text(**overrides)
        for action, who in PATH_TO[state]:
            act(getattr(self, who), text, action, comment="理由" if action == "return" else "")
        return ProjectText.objects.get(pk=text.pk)


# How a fresh draft reaches each state: (action, who) in order.
PATH_TO = {
    "draft": [],
    "dept_review": [("submit", "org_drafter")],
    "finance_review": [("submit", "org_drafter"), ("dept_approve", "org_reviewer")],
    "approval": [
        ("submit", "org_drafter"),
        ("dept_approve", "org_reviewer"),
        ("finance_approve", "finance"),
    ],
    "returned": [("submit", "org_drafter"), ("return", "org_reviewer")],
}


@pytest.fixture
def cast(db: None) -> Cast:
    org = DepartmentFactory(code="org", name="中共新平彝族傣族自治县委员会组织部")
    edu = DepartmentFactory(code="edu", name="新平县教育体育局")
    return Cast(
        org=org,
        edu=edu,
        org_drafter=make_user("org_drafter", Role.DRAFTER, org),
        org_reviewer=make_user("org_reviewer", Role.DEPT_REVIEWER, org),
        edu_drafter=make_user("edu_drafter", Role.DRAFTER, edu),
        edu_reviewer=make_user("edu_reviewer", Role.DEPT_REVIEWER, edu),
        finance=make_user("finance", Role.FINANCE_REVIEWER),
        approver=make_user("approver", Role.APPROVER),
        auditor=make_user("auditor", Role.AUDITOR),
        # The system administrator, as seed_demo makes it (三员分立: no longer a superuser).
        admin=make_user("admin", Administrator.SYSTEM, is_staff=True),
    )


@pytest.fixture
def security_admin(cast: Cast) -> Any:
    """seed_demo's security administrator: grants and revokes roles."""
    return make_user("security_admin", Administrator.SECURITY, is_staff=True)


@pytest.fixture
def audit_admin(cast: Cast) -> Any:
    """seed_demo's audit administrator: reads the whole audit log."""
    return make_user("audit_admin", Administrator.AUDIT, is_staff=True)


@pytest.fixture
def api():
    """api(user) -> an APIClient logged in as user; api() -> anonymous."""

    def client(user: Any = None) -> APIClient:
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    return client
