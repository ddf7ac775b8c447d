"""Counting the SQL statements of one action's transaction.

An action runs in one durable transaction; inside a test's own transaction that block
shows as `SAVEPOINT "x"` ... `RELEASE SAVEPOINT "x"`. The action's block is the top-level
one that appends an audit event: everything the request does before (loading the user's
roles) or after it (serialising the answer) is left out."""

import re
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

SAVEPOINT = re.compile(r'^SAVEPOINT "?([^"\s]+)"?')
RELEASE = re.compile(r'^RELEASE SAVEPOINT "?([^"\s]+)"?')
AUDIT_INSERT = re.compile(r'^INSERT INTO "?workflow_audit_event"?', re.IGNORECASE)


def transaction_blocks(statements: list[str]) -> list[list[str]]:
    """The statements strictly inside each top-level savepoint block, in order."""
    blocks, current, name = [], None, None
    for sql in statements:
        if current is None:
            opened = SAVEPOINT.match(sql)
            if opened:
                current, name = [], opened.group(1)
            continue
        closed = RELEASE.match(sql)
        if closed and closed.group(1) == name:
            blocks.append(current)
            current, name = None, None
            continue
        current.append(sql)
    return blocks


def action_statements(request: Callable[[], Any], expect: int = 200) -> list[str]:
    """Run `request` and return the statements of the one transaction that recorded an
    audit event (the action's), nested savepoints included."""
    with CaptureQueriesContext(connection) as captured:
        response = request()
    status = getattr(response, "status_code", expect)
    assert status == expect, getattr(response, "data", response)
    statements = [query["sql"] for query in captured.captured_queries]
    found = [
        block
        for block in transaction_blocks(statements)
        if any(AUDIT_INSERT.match(sql) for sql in block)
    ]
    assert len(found) == 1, f"expected one audited transaction, found {len(found)}"
    return found[0]
