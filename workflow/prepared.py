"""The few statements every action runs, planned once per database connection.

PostgreSQL plans each statement it is sent. The action's facts (a union of ten selects) and
the roles (a union of three or four) spent most of their time in planning: 0.7 ms of the
facts' 0.9 (issue 12). A prepared statement is planned once per connection and then only
executed. Django binds parameters on the client and never prepares, so these statements
take psycopg's server-side binding with `prepare=True`; they still go through Django's
cursor wrapper, so they are counted, logged and wrapped like every other statement.

Where the ORM spent longer building a statement than the database spent running it, the
statement is written out once per process from the models' fields: the action's lock and
the access token (`Columns`: their rows become instances as `select_related` leaves them),
the action's inserts (`insert`, as `save` with its signals) and updates (`update`, as a
queryset's `update` for plain equality conditions).

Prepared statements live in the database session. A pooler that hands one session to
several clients (PgBouncer in transaction mode, before 1.21) cannot keep them: set
DB_PREPARED_STATEMENTS=0 and they run unprepared, as before (config/settings.py).
SQLite has nothing to prepare here: the statements run as they are.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import psycopg
from django.db import connection
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save


def fetch_all(sql: str, params: Sequence[Any], *, prepare: bool = True) -> list[tuple[Any, ...]]:
    """The rows of `sql`, prepared on PostgreSQL (the first run on a connection plans it).
    `prepare=False` for a statement whose text varies from call to call (a list of any
    length written out): preparing it would cost a round trip and keep it for nothing."""
    with _executed(sql, params, prepare=prepare) as cursor:
        return [tuple(row) for row in cursor.fetchall()]


def execute(sql: str, params: Sequence[Any]) -> int:
    """Run `sql` (a change), prepared on PostgreSQL; how many rows it changed."""
    with _executed(sql, params) as cursor:
        return cursor.rowcount


def update(model: type[Model], values: dict[str, Any], **where: Any) -> int:
    """`model.objects.filter(**where).update(**values)` where each condition is a field
    equal to a value (or, for None, null): the statement written once per shape and
    prepared. How many rows it changed."""
    fields = model._meta.get_field
    where = {model._meta.pk.name if name == "pk" else name: v for name, v in where.items()}
    sql = _update_statement(
        connection.vendor, model, tuple(values), tuple((n, v is None) for n, v in where.items())
    )
    params = [fields(name).get_db_prep_save(value, connection) for name, value in values.items()]
    params += [
        fields(name).get_db_prep_value(value, connection, prepared=False)
        for name, value in where.items()
        if value is not None
    ]
    return execute(sql, params)


@cache
def _update_statement(
    vendor: str, model: type[Model], names: tuple[str, ...], where: tuple[tuple[str, bool], ...]
) -> str:
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    column = {name: quote(f.column) for f in fields for name in (f.name, f.attname)}
    changes = ", ".join(f"{column[name]} = %s" for name in names)
    conditions = " AND ".join(
        f"{column[name]} IS NULL" if null else f"{column[name]} = %s" for name, null in where
    )
    return f"UPDATE {quote(model._meta.db_table)} SET {changes} WHERE {conditions}"  # noqa: S608


def insert(instance: Model) -> None:
    """`instance.save(force_insert=True)`, signals and all, by a statement written once per
    model and prepared. The instance gets its primary key back."""
    model = type(instance)
    sql, fields = _insert_statement(connection.vendor, model)
    using = connection.alias
    pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=None)
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    ((pk,),) = fetch_all(sql, params)
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = using
    post_save.send(
        sender=model, instance=instance, created=True, raw=False, using=using, update_fields=None
    )


@cache
def _insert_statement(vendor: str, model: type[Model]) -> tuple[str, tuple[Field, ...]]:
    quote = connection.ops.quote_name
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    pk = quote(model._meta.pk.column)
    table = quote(model._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
    return sql, fields


@contextmanager
def _executed(sql: str, params: Sequence[Any], *, prepare: bool = True) -> Iterator[Any]:
    if prepare and connection.vendor == "postgresql":
        connection.ensure_connection()
        raw = _PreparingCursor(connection.connection)
        # In Django's wrapper: counted, logged and wrapped like every other statement.
        raw.logged = connection.queries_logged
        cursor = connection.make_debug_cursor(raw) if raw.logged else connection.make_cursor(raw)
    else:
        cursor = connection.cursor()
    with cursor:
        cursor.execute(sql, params)
        yield cursor


class _PreparingCursor(psycopg.Cursor):
    """A server-binding cursor that asks for every statement to be prepared. The connection
    prepares nothing when its `prepare_threshold` is None (DB_PREPARED_STATEMENTS=0)."""

    logged = False

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        super().execute(query, params, prepare=True, **kwargs)
        if self.logged:
            # Django's statement log (connection.queries, assertNumQueries) reads the
            # statement from here, where a prepared execution leaves none: the statement
            # as a client-binding cursor sends it, its values in place, as for any other.
            statement = psycopg.ClientCursor(self.connection).mogrify(query, params)
            self._query = _Statement(statement.encode())
        return self


@dataclass(frozen=True)
class _Statement:
    """What Django's statement log reads of a psycopg cursor's last statement."""

    query: bytes


Converters = tuple[tuple[int, tuple[Callable, ...], Any], ...]


def converters_of(expressions: Sequence[Any]) -> Converters:
    """What turns each selected value into its Python value, as the ORM does (on SQLite a
    date arrives as text, on PostgreSQL a JSON document as a string)."""
    found = []
    for position, expression in enumerate(expressions):
        functions = connection.ops.get_db_converters(expression)
        functions += expression.get_db_converters(connection)
        if functions:
            found.append((position, tuple(functions), expression))
    return tuple(found)


def converted(values: list[Any], converters: Converters) -> list[Any]:
    for position, functions, expression in converters:
        for convert in functions:
            values[position] = convert(values[position], expression, connection)
    return values


@dataclass(frozen=True)
class Columns:
    """One model's columns in a hand-written statement (`alias.column, ...`, every concrete
    field in order) and how a row's share of them becomes an instance."""

    model: type[Model]
    sql: str
    names: tuple[str, ...]
    converters: Converters

    @classmethod
    def of(cls, model: type[Model], alias: str) -> "Columns":
        fields = model._meta.concrete_fields
        quote = connection.ops.quote_name
        return cls(
            model,
            ", ".join(f"{alias}.{quote(f.column)}" for f in fields),
            tuple(f.attname for f in fields),
            converters_of([f.get_col(alias) for f in fields]),
        )

    def instance(self, row: Sequence[Any], start: int = 0) -> Model | None:
        """The instance whose columns begin at `start`; None if they are NULL (an outer join
        that found nothing)."""
        values = list(row[start : start + len(self.names)])
        if values[0] is None:
            return None
        return self.model.from_db(connection.alias, self.names, converted(values, self.converters))


def instances(row: Sequence[Any], columns: Sequence[Columns]) -> list[Model | None]:
    """The instances of a row that selected `columns`, one after the other."""
    found, start = [], 0
    for part in columns:
        found.append(part.instance(row, start))
        start += len(part.names)
    return found
