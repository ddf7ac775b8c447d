"""Many texts fast, for tests of how lists scale with the data.

`copy_texts` copies texts that the real service brought to their states (so that every
copy is one the service could have made) with what hangs off them: the route, revisions,
decisions, authors, open stage visit and audit events. One INSERT ... SELECT per table and
template, numbered by a recursive CTE: the same SQL on SQLite and PostgreSQL, 50,000 texts
in seconds. Copies of events go to streams of their own (`<stream>#<text id>`), so the
chain of the real events stays as it was; the copies are not a verifiable chain.
"""

from collections.abc import Iterable

from django.db import connection

from submissions.models import ProjectText, Revision
from workflow.models import AuditEvent, Decision, Route, StageVisit

NUMBERS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _columns(model, *, replace: dict[str, str], prefix: str) -> tuple[str, str]:
    """(the column list to insert, the matching SELECT list reading `prefix`'s columns),
    the primary key left to the database, and `replace`'s columns computed instead."""
    names = [f.column for f in model._meta.concrete_fields if f.column != "id"]
    into = ", ".join(_q(name) for name in names)
    select = ", ".join(replace.get(name, f"{prefix}.{_q(name)}") for name in names)
    return into, select


def _last_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {_q(model._meta.db_table)}")
        return cursor.fetchone()[0]


def copy_texts(templates: Iterable[ProjectText], copies: int) -> int:
    """`copies` copies of each template, with its dependants; the number of texts made."""
    made = 0
    for template in templates:
        made += _copy(template.pk, copies)
    return made


def _copy(template_id: int, copies: int) -> int:
    if copies <= 0:
        return 0
    texts = _q(ProjectText._meta.db_table)
    into, select = _columns(
        ProjectText,
        replace={
            "title": "t.title || ' ' || CAST(n.i AS VARCHAR(12))",
            "project_code": "''",
        },
        prefix="t",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            NUMBERS + f"INSERT INTO {texts} ({into}) SELECT {select} FROM n, {texts} t "
            "WHERE t.id = %s ORDER BY n.i",
            [copies, template_id],
        )
    # The copies' ids are consecutive: one statement made them, nobody else writes here
    # (from the last one back: a sequence does not go back when a test's transaction does).
    last = _last_id(ProjectText)
    first = last - copies + 1
    statements = []
    copied = f"FROM {texts} p, {{table}} x WHERE p.id BETWEEN {first} AND {last} AND x.{{key}} = %s"
    for model, key, replace in (
        (Route, "text_id", {"text_id": "p.id"}),
        (Revision, "text_id", {"text_id": "p.id"}),
        (StageVisit, "text_id", {"text_id": "p.id"}),
        (AuditEvent, "text_id", {"text_id": "p.id", "stream": "x.stream || '#' || p.id"}),
    ):
        into, select = _columns(model, replace=replace, prefix="x")
        table = _q(model._meta.db_table)
        statements.append(
            (
                f"INSERT INTO {table} ({into}) SELECT {select} "
                + copied.format(table=table, key=key),
                [template_id],
            )
        )
    decisions, revisions = _q(Decision._meta.db_table), _q(Revision._meta.db_table)
    into, select = _columns(
        Decision, replace={"text_id": "p.id", "revision_id": "r.id"}, prefix="x"
    )
    statements.append(
        (
            f"INSERT INTO {decisions} ({into}) SELECT {select} "
            f"FROM {texts} p, {decisions} x, {revisions} old, {revisions} r "
            f"WHERE p.id BETWEEN {first} AND {last} AND x.text_id = %s "
            "AND old.id = x.revision_id AND r.text_id = p.id AND r.number = old.number",
            [template_id],
        )
    )
    authors = _q(ProjectText.authors.through._meta.db_table)
    statements.append(
        (
            f"INSERT INTO {authors} (projecttext_id, user_id) SELECT p.id, x.user_id "
            + copied.format(table=authors, key="projecttext_id"),
            [template_id],
        )
    )
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
    return copies
