"""Getting past the audit tables' append-only triggers, as someone with DDL rights could, so
that tests can show the tampering is detected."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

EVENTS = "workflow_audit_event"
CHECKPOINTS = "workflow_audit_checkpoint"


@contextmanager
def triggers_off(*tables: str) -> Iterator[None]:
    """Switch off the append-only triggers of `tables` for the enclosed statements."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # No trigger fires for a replica session. (ALTER TABLE ... DISABLE TRIGGER would
            # wait for the deferred foreign-key checks pending in the test's transaction.)
            cursor.execute("SET LOCAL session_replication_role = replica")
            try:
                yield
            finally:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")
            return
        saved = []
        for table in tables:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [table],
            )
            saved.extend(cursor.fetchall())
        assert saved, f"the SQLite append-only triggers of {tables} are missing"
        for name, _sql in saved:
            cursor.execute(f'DROP TRIGGER "{name}"')
        try:
            yield
        finally:
            for _name, sql in saved:
                cursor.execute(sql)


def tamper(sql: str, params: list[Any] | None = None) -> None:
    """Run one statement against the audit tables with their protection switched off."""
    with triggers_off(EVENTS, CHECKPOINTS), connection.cursor() as cursor:
        cursor.execute(sql, params or [])
