"""The application's PostgreSQL role, set up by `secure_database_role`, may only append to
the audit tables and, not owning them, cannot switch their triggers off."""

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.factories import DepartmentFactory, act, make_text, make_user
from tests.live import database_url
from workflow import audit
from workflow.states import Role

pytestmark = pytest.mark.postgres

ROLE = "budget_app_test"


@pytest.fixture
def app_role(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {ROLE}")
        cursor.execute(f"CREATE ROLE {ROLE} LOGIN")
    call_command("secure_database_role", ROLE)
    conn = psycopg.connect(
        database_url().replace("postgres://postgres@", f"postgres://{ROLE}@", 1),
        autocommit=True,
    )
    try:
        yield conn
    finally:
        conn.close()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {ROLE}")
            cursor.execute(f"DROP ROLE {ROLE}")


def test_the_app_role_may_read_and_append_to_the_audit_log(app_role):
    privileges = app_role.execute(
        "SELECT has_table_privilege('workflow_audit_event', 'SELECT'),"
        " has_table_privilege('workflow_audit_event', 'INSERT'),"
        " has_table_privilege('submissions_projecttext', 'UPDATE')"
    ).fetchone()
    assert privileges == (True, True, True)


@pytest.mark.parametrize(
    "table",
    [
        "workflow_audit_event",
        "workflow_audit_checkpoint",
        "submissions_revision",
        "workflow_decision",
    ],
)
def test_the_app_role_may_not_update_or_delete_append_only_tables(app_role, table):
    for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
        (allowed,) = app_role.execute(
            "SELECT has_table_privilege(%s, %s)", (table, privilege)
        ).fetchone()
        assert allowed is False, (table, privilege)


def test_the_app_role_cannot_switch_the_audit_triggers_off(app_role):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app_role.execute("ALTER TABLE workflow_audit_event DISABLE TRIGGER ALL")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app_role.execute(
            "DROP TRIGGER IF EXISTS pgtrigger_audit_events_append_only_16266 "
            "ON workflow_audit_event"
        )


def test_the_command_refuses_an_unknown_role(transactional_db):
    with pytest.raises(CommandError, match="no such role"):
        call_command("secure_database_role", "nobody_like_this")


def test_the_whole_workflow_runs_as_the_app_role(app_role):
    org = DepartmentFactory(code="org", name="组织部")
    drafter = make_user("drafter", Role.DRAFTER, org)
    reviewer = make_user("reviewer", Role.DEPT_REVIEWER, org)
    owner = connection.settings_dict["USER"]
    connection.close()
    connection.settings_dict["USER"] = ROLE
    try:
        text = make_text(drafter, org)
        act(drafter, text, "submit")
        act(reviewer, text, "return", comment="金额有误")
        checkpoint = audit.seal()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == ROLE
        assert audit.verify().ok is True
        assert checkpoint is not None
    finally:
        connection.close()
        connection.settings_dict["USER"] = owner
