"""Locking one text for a change, and loading in one statement everything the rules need
to know about it (issue 12, "a lean action path").

The text's row is locked first; what the rules need (its current revision, the decisions
and added signers on it, its authors, whether the user may see it, the head of its audit
chain) is read after the lock is held, so that it is never older than the lock: a text
that moved on while the lock was awaited is judged as it is now. Visibility is decided in
Python from those rows (`policy.may_see`, the same rules as `policy.visible_texts`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models.sql import Query
from django.db.models.sql.compiler import SQLCompiler

from submissions.lifecycle import EDITABLE_STATES
from submissions.models import (
    Department,
    ProjectText,
    ProjectTextGroupObjectPermission,
    ProjectTextUserObjectPermission,
    Revision,
)
from workflow import audit, clock, prepared
from workflow.machine import Catalog, catalog
from workflow.models import AddedSigner, AuditChain, Decision, StageVisit
from workflow.permissions import Authority
from workflow.policy import TEXT_READ_PERMS, DecisionFact, Sighting, TextFacts, may_see


@dataclass(frozen=True)
class Locked:
    """A text locked for this transaction, with its facts, as one user sees it."""

    text: ProjectText
    facts: TextFacts
    visible: bool
    # (length, head hash) of the text's audit stream as read under the lock; None if its
    # head row is missing (the audit module rebuilds it).
    chain_head: tuple[int, str] | None
    db_now: datetime


def lock_text(authority: Authority, pk: int, *, known: Catalog | None = None) -> Locked | None:
    """Lock the text's row (None: no such text) and load its facts for `authority`.

    Two statements whether the text exists or not: a missing id costs what an invisible
    text costs, so that the cost does not tell that a text exists."""
    text = _lock_row(pk)
    known = known or catalog()
    rows = _fact_rows(authority, pk, text.revision if text is not None else 0)
    if text is None:
        return None
    return _assemble(authority, text, rows, known)


# --- The lock ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LockStatement:
    select: str  # every column of the four models (the clock's is added each time)
    tables: str  # FROM ... WHERE t.id = %s, and the lock
    columns: tuple[prepared.Columns, ...]


@cache
def _lock_statement(vendor: str) -> _LockStatement:
    """What `ProjectText.objects.select_for_update(of=("self",)).select_related(
    "department", "created_by", "route")` sends, written out once per process, where the
    ORM spent longer building the statement on every action than the database spent
    running it (issue 12)."""
    from workflow.models import Route

    quote = connection.ops.quote_name
    joined = (
        ("t", ProjectText, "{}"),
        ("d", Department, "JOIN {} ON d.id = t.department_id"),
        ("u", get_user_model(), "JOIN {} ON u.id = t.created_by_id"),
        ("r", Route, "LEFT JOIN {} ON r.text_id = t.id"),
    )
    columns = tuple(prepared.Columns.of(model, alias) for alias, model, _join in joined)
    tables = " ".join(
        join.format(f"{quote(model._meta.db_table)} {alias}") for alias, model, join in joined
    )
    lock = " FOR UPDATE OF t" if connection.features.has_select_for_update_of else ""
    return _LockStatement(
        ", ".join(c.sql for c in columns), f"FROM {tables} WHERE t.id = %s{lock}", columns
    )


def _lock_row(pk: int) -> ProjectText | None:
    """The text's row, locked, with its department, creator and route as `select_related`
    leaves them, and the database's clock as `locked_at`; None if there is no such text."""
    statement = _lock_statement(connection.vendor)
    # The clock is compiled each time: a test may stand another in for it.
    now = clock.db_now_in_statement()
    now_sql, now_params = SQLCompiler(Query(ProjectText), connection, connection.alias).compile(now)
    sql = f"SELECT {statement.select}, {now_sql} {statement.tables}"
    rows = prepared.fetch_all(sql, [*now_params, pk])
    if not rows:
        return None
    text, department, created_by, route = prepared.instances(rows[0], statement.columns)
    meta = ProjectText._meta
    meta.get_field("department").set_cached_value(text, department)
    meta.get_field("created_by").set_cached_value(text, created_by)
    meta.get_field("route").set_cached_value(text, route)
    if route is not None:
        route._meta.get_field("text").set_cached_value(route, text)
    (text.locked_at,) = prepared.converted([rows[0][-1]], prepared.converters_of([now]))
    return text


# --- The one statement ------------------------------------------------------------------------

_NULL_N = "CAST(NULL AS BIGINT)"
_NULL_S = "CAST(NULL AS VARCHAR(255))"


def _fact_rows(authority: Authority, pk: int, revision: int) -> list[tuple[Any, ...]]:
    """Rows (kind, n1, n2, n3, s1, s2, s3, s4) of everything `_assemble` needs."""
    user_table = get_user_model()._meta.db_table
    revisions = Revision._meta.db_table
    decisions = Decision._meta.db_table
    signers = AddedSigner._meta.db_table
    authors = ProjectText.authors.through._meta.db_table
    by_user = ProjectTextUserObjectPermission._meta.db_table
    by_group = ProjectTextGroupObjectPermission._meta.db_table
    permissions = Permission._meta.db_table
    user_groups = get_user_model().groups.through._meta.db_table
    chains = AuditChain._meta.db_table
    visits = StageVisit._meta.db_table
    perms = ", ".join(["%s"] * len(TEXT_READ_PERMS))
    n, s = _NULL_N, _NULL_S
    sql = f"""
        SELECT 'revision', r.id, r.submitted_by_id, {n}, {s}, {s}, {s}, {s}
          FROM {revisions} r WHERE r.text_id = %s AND r.number = %s
        UNION ALL
        SELECT 'decision', d.id, d.actor_id, d.on_behalf_of_id, d.stage, d.action, d.lane,
               u.username
          FROM {decisions} d
          JOIN {revisions} r ON r.id = d.revision_id
          JOIN {user_table} u ON u.id = COALESCE(d.on_behalf_of_id, d.actor_id)
         WHERE d.text_id = %s AND r.number = %s
        UNION ALL
        SELECT 'signer', a.id, a.user_id, {n}, a.stage, {s}, {s}, u.username
          FROM {signers} a
          JOIN {revisions} r ON r.id = a.revision_id
          JOIN {user_table} u ON u.id = a.user_id
         WHERE a.text_id = %s AND r.number = %s
        UNION ALL
        SELECT 'author', w.user_id, {n}, {n}, {s}, {s}, {s}, {s}
          FROM {authors} w WHERE w.projecttext_id = %s
        UNION ALL
        SELECT DISTINCT 'reached', {n}, {n}, {n}, d.stage, {s}, {s}, {s}
          FROM {decisions} d WHERE d.text_id = %s
        UNION ALL
        SELECT 'signed', a.id, {n}, {n}, {s}, {s}, {s}, {s}
          FROM {signers} a WHERE a.text_id = %s AND a.user_id = %s
        UNION ALL
        SELECT 'granted', {n}, {n}, {n}, p.codename, {s}, {s}, {s}
          FROM {by_user} x JOIN {permissions} p ON p.id = x.permission_id
         WHERE x.content_object_id = %s AND x.user_id = %s AND p.codename IN ({perms})
        UNION ALL
        SELECT 'granted', {n}, {n}, {n}, p.codename, {s}, {s}, {s}
          FROM {by_group} x
          JOIN {permissions} p ON p.id = x.permission_id
          JOIN {user_groups} g ON g.group_id = x.group_id
         WHERE x.content_object_id = %s AND g.user_id = %s AND p.codename IN ({perms})
        UNION ALL
        SELECT 'chain', c.length, {n}, {n}, c.head_hash, {s}, {s}, {s}
          FROM {chains} c WHERE c.stream = %s
        UNION ALL
        SELECT 'visit', v.id, {n}, {n}, CAST(v.quorums AS VARCHAR(4000)), {s}, {s}, {s}
          FROM {visits} v WHERE v.text_id = %s AND v.left_at IS NULL
    """  # noqa: S608 (table names only)
    user_id = authority.user.pk
    params = [pk, revision, pk, revision, pk, revision, pk, pk, pk, user_id]
    params += [pk, user_id, *TEXT_READ_PERMS, pk, user_id, *TEXT_READ_PERMS]
    params += [audit.text_stream(pk), pk]
    return prepared.fetch_all(sql, params)


def _assemble(
    authority: Authority, text: ProjectText, rows: list[tuple[Any, ...]], known: Catalog
) -> Locked:
    route = getattr(text, "route", None) if has_route(text) else None
    pinned = route is not None and text.state not in EDITABLE_STATES
    machine = known.machine(route.version_id) if pinned else known.current
    revision = None
    decisions: list[tuple[int, DecisionFact]] = []
    signers: list[tuple[int, int, str]] = []
    names: dict[int, str] = {}
    author_ids: set[int] = set()
    reached: set[str] = set()
    granted: set[str] = set()
    signed = False
    chain_head = None
    quorums: dict[str, int] = {}
    for kind, n1, n2, n3, s1, s2, s3, s4 in rows:
        if kind == "revision":
            revision = _revision(n1, text, n2)
        elif kind == "decision":
            principal = n3 or n2
            decisions.append((n1, DecisionFact(n2, principal, s1, s2, s3)))
            names[principal] = s4
        elif kind == "signer":
            signers.append((n1, n2, s1))
            names[n2] = s4
        elif kind == "author":
            author_ids.add(n1)
        elif kind == "reached":
            reached.add(s1)
        elif kind == "signed":
            signed = True
        elif kind == "granted":
            granted.add(s1)
        elif kind == "chain":
            chain_head = (int(n1), s1)
        elif kind == "visit":
            quorums = json.loads(s1) if s1 else {}
    added: tuple[int, ...] = ()
    if revision is not None and machine.stage(text.state) is not None:
        added = tuple(uid for _id, uid, stage in sorted(signers) if stage == text.state)
    facts = TextFacts(
        machine,
        revision,
        frozenset(author_ids),
        tuple(fact for _id, fact in sorted(decisions, key=lambda pair: pair[0])),
        added,
        quorums if pinned else {},
        pinned,
        names,
        frozenset(granted),
    )
    sighting = Sighting(frozenset(granted), signed, frozenset(reached))
    return Locked(
        text,
        facts,
        may_see(authority, text, sighting, known=known),
        chain_head,
        text.locked_at,
    )


def _revision(pk: int, text: ProjectText, submitted_by_id: int) -> Revision:
    """The current revision as `.only("id", "text_id", "number", "submitted_by_id")` would
    load it: the rest deferred."""
    loaded = {
        "id": pk,
        "text_id": text.pk,
        "number": text.revision,
        "submitted_by_id": submitted_by_id,
    }
    names = [f.attname for f in Revision._meta.concrete_fields if f.attname in loaded]
    return Revision.from_db("default", names, [loaded[name] for name in names])


def has_route(text: ProjectText) -> bool:
    """Whether the text has been pinned to a version (its route loaded, or set since)."""
    from workflow.models import Route

    try:
        text.route  # noqa: B018 (loaded by select_related; raises when there is none)
    except Route.DoesNotExist:
        return False
    return True
