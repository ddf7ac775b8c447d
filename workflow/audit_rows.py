"""The audit events as a full verification reads them: runs of one stream's consecutive
events, column by column, not models, each event with the bytes its hash covers.

`audit.canonical_bytes` defines those bytes. Making a model instance per event and encoding it
costs more than the hash itself, so a full verification builds them another way, and the tests
(tests/test_fast_verification.py) hold each way to `canonical_bytes` byte for byte:

- On PostgreSQL the database writes the canonical text around the two JSON columns (quoting
  each string as JSON quotes it) and joins a run's values into one row, and the rows stream out
  with `COPY ... TO STDOUT`, so that the database produces runs while the verifier hashes them.
  The JSON columns come as the database's own text (its spacing and key order): those that are
  not empty are re-encoded here.
- Elsewhere (SQLite) the columns are read in chunks, filled into a template here and gathered
  into runs.

The hashing and every comparison stay in the verifier (`audit.walk_events`): a database that
could check for it could also lie about it.
"""

import functools
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from workflow.models import AuditEvent

# One event as `event_rows` yields it: (id, stream, seq, prev_hash, hash, digest, canonical
# bytes).
EventRow = tuple[int, str, int, str, str, str, bytes]

# What the template needs of each event, in this order: the integers canonical_bytes writes
# come as their JSON text already (CAST gives Python's repr of an integer on both databases;
# NULL as null), the time as its canonical UTC text; no model instance is made.
_ROW_COLUMNS = (
    "id",
    "stream",
    "seq",
    "at",  # canonical text (see _at_sql)
    "actor_id",  # JSON text
    "actor_name",
    "action",
    "outcome",
    "text_id",  # JSON text
    "department",
    "from_state",
    "to_state",
    "revision",  # JSON text
    "comment",
    "changes",
    "detail",
    "prev_hash",
    "hash",
    "digest",
)
_JSON_INTEGERS = frozenset({"actor_id", "text_id", "revision"})
# canonical_bytes's document with its keys in sorted order; the property test in
# tests/test_fast_verification.py holds the two byte for byte.
_CANONICAL_TEMPLATE = (
    '{"action":%s,"actor":%s,"actor_id":%s,"at":"%s","changes":%s,"comment":%s,'
    '"department":%s,"detail":%s,"from_state":%s,"outcome":%s,"prev_hash":%s,'
    '"revision":%s,"seq":%d,"stream":%s,"text":%s,"to_state":%s}'
)
_quote = json.encoder.encode_basestring  # json.dumps's own quoting with ensure_ascii=False
_canonical_json = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode
# The same encoder's and json.loads's C parts, made once: a JSON column is re-encoded for many
# events, and json.dumps and json.loads each rebuild theirs and check their arguments on every
# call, which costs twice what the work does. The property tests in
# tests/test_fast_verification.py hold them to canonical_bytes.
_scan_json = json.scanner.make_scanner(json.JSONDecoder())
if json.encoder.c_make_encoder is not None:
    _encode_canonical = json.encoder.c_make_encoder(
        None,  # no check for cycles: a decoded column has none
        _canonical_json,  # never called: decoded JSON holds nothing it cannot encode
        _quote,
        None,  # no indent
        ":",
        ",",
        True,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan, as json.dumps
    )

    def _encode_json(value: Any) -> str:
        return "".join(_encode_canonical(value, 0))

else:  # an interpreter without json's C speedups
    _encode_json = _canonical_json
# Rows fetched per round trip where the rows are read in chunks (not on PostgreSQL).
VERIFY_FETCH_ROWS = 5000


class EventRun:
    """Consecutive events of one stream in seq order (at most RUN_EVENTS), column by column:
    a verification checks a run whole, and reads its events one by one only when that fails.

    The ids and places stay as the database joined them ("7,8,9") until something asks for
    them: a run that passes needs only its last id, and its places compared whole."""

    __slots__ = ("_ids", "_seqs", "canonicals", "digests", "hashes", "prev_hashes", "stream")

    def __init__(
        self,
        stream: str,
        ids: bytes,
        seqs: bytes,
        prev_hashes: list[str],
        hashes: list[str],
        digests: list[str],
        canonicals: list[bytes],
    ) -> None:
        self.stream = stream
        self._ids, self._seqs = ids, seqs
        self.prev_hashes, self.hashes, self.digests = prev_hashes, hashes, digests
        self.canonicals = canonicals

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def ids(self) -> list[int]:
        return _integers(self._ids)

    @property
    def seqs(self) -> list[int]:
        return _integers(self._seqs)

    @property
    def last_id(self) -> int:
        return int(self._ids.rpartition(b",")[2])

    def placed_from(self, first: int) -> bool:
        """Whether the run's events are at places first, first + 1, ... in this order."""
        return self._seqs == _places(first, len(self.hashes))

    def rows(self) -> Iterator[EventRow]:
        columns = (self.ids, self.seqs, self.prev_hashes, self.hashes, self.digests)
        for (pk, seq, prev_hash, stored, digest), canonical in zip(
            zip(*columns, strict=True), self.canonicals, strict=True
        ):
            yield (pk, self.stream, seq, prev_hash, stored, digest, canonical)


@functools.lru_cache(maxsize=4096)
def _places(first: int, count: int) -> bytes:
    return _joined_integers(range(first, first + count))


def _joined_integers(numbers: Iterable[int]) -> bytes:
    return ",".join(map(str, numbers)).encode()


# Events a run holds at most: on PostgreSQL the database sends a run as one row, so that the
# verifier handles one message for many events, not one for each; the bound keeps a very long
# stream from becoming one huge row.
RUN_EVENTS = 1000


def event_runs(streams: tuple[str | None, str | None] = (None, None)) -> Iterator[EventRun]:
    """Every event with its canonical bytes, in runs, in (stream, seq) order (the unique
    index's); with `streams` (from, to), those of the streams from `from` up to, not including,
    `to` (None: no bound), in the database's order of names."""
    if connection.vendor == "postgresql":
        return _copied_runs(streams)
    return _runs_of(_templated_rows(streams))


def event_rows(streams: tuple[str | None, str | None] = (None, None)) -> Iterator[EventRow]:
    """The events of `event_runs`, one by one."""
    for run in event_runs(streams):
        yield from run.rows()


def _where(streams: tuple[str | None, str | None]) -> tuple[str, list[str]]:
    quote = connection.ops.quote_name
    bounds, params = [], []
    for sign, name in zip((">=", "<"), streams, strict=True):
        if name is not None:
            bounds.append(f"{quote('stream')} {sign} %s")
            params.append(name)
    return (f" WHERE {' AND '.join(bounds)}" if bounds else ""), params


def _select(expressions: list[str], streams: tuple[str | None, str | None]) -> tuple[str, list]:
    quote = connection.ops.quote_name
    where, params = _where(streams)
    table = quote(AuditEvent._meta.db_table)
    order = f"{quote('stream')}, {quote('seq')}"
    return f"SELECT {', '.join(expressions)} FROM {table}{where} ORDER BY {order}", params  # noqa: S608


# --- PostgreSQL: the database writes the text, COPY streams it ------------------------------


def _json_text(column: str) -> str:
    # to_json quotes a string exactly as json.dumps(ensure_ascii=False) does: ", \ and the
    # control characters escaped, nothing else.
    return f"to_json({column})::text"


def _integer_text(column: str) -> str:
    return f"COALESCE(CAST({column} AS TEXT), 'null')"


# Splits the canonical text of an event whose JSON columns are not both empty around them:
# a control character JSON never writes raw and COPY does not escape.
_AROUND_JSON = b"\x1f"


def _canonical_sql() -> str:
    """The canonical text as an SQL expression (the keys in canonical_bytes's sorted order),
    whole when both JSON columns are empty; otherwise in five parts split by _AROUND_JSON:
    before `changes`, its database text, between, `detail`'s, after."""
    before = (
        f"""'{{"action":' || {_json_text("action")} || ',"actor":' || {_json_text("actor_name")}"""
        f""" || ',"actor_id":' || {_integer_text("actor_id")} || ',"at":"' || {_at_sql("at")}"""
        """ || '","changes":'"""
    )
    between = (
        f"""',"comment":' || {_json_text("comment")} || ',"department":' """
        f"""|| {_json_text("department")} || ',"detail":'"""
    )
    after = (
        f"""',"from_state":' || {_json_text("from_state")} || ',"outcome":' """
        f"""|| {_json_text("outcome")} || ',"prev_hash":' || {_json_text("prev_hash")} """
        f"""|| ',"revision":' || {_integer_text("revision")} || ',"seq":' || seq::text """
        f"""|| ',"stream":' || {_json_text("stream")} || ',"text":' || {_integer_text("text_id")}"""
        f""" || ',"to_state":' || {_json_text("to_state")} || '}}'"""
    )
    split = "chr(31)"
    return (
        f"CASE WHEN changes = '{{}}' AND detail = '{{}}' "
        f"THEN {before} || '{{}}' || {between} || '{{}}' || {after} "
        f"ELSE {before} || {split} || changes::text || {split} || {between} || {split} "
        f"|| detail::text || {split} || {after} END"
    )


# COPY's text format writes a backslash, backspace, form feed, newline, carriage return, tab
# and vertical tab inside a field as a backslash sequence
# (https://www.postgresql.org/docs/current/sql-copy.html, "Text Format"), so lines and fields
# split exactly; reading, it also takes octal and hexadecimal sequences, which are undone too.
_COPY_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.DOTALL)
_COPY_LETTERS = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}


def _copy_character(match: re.Match) -> bytes:
    octal, hexadecimal, other = match.groups()
    if octal:
        return bytes([int(octal, 8) & 0xFF])
    if hexadecimal:
        return bytes([int(hexadecimal, 16)])
    return _COPY_LETTERS.get(other, other)


def _copy_fields(line: bytes) -> list[bytes]:
    fields = line.split(b"\t")
    if b"\\" in line:
        fields = [_COPY_ESCAPE.sub(_copy_character, field) for field in fields]
    return fields


def _run_sql(streams: tuple[str | None, str | None]) -> tuple[str, list[str]]:
    """One row per run: its stream, then each column's values in seq order, joined. A string
    is joined as its JSON text (to_json escapes every control character), and so is an event's
    canonical text, so that no value can hold the character between two events, whatever was
    written into it.

    The events come sorted into the aggregates rather than each aggregate sorting its own
    (`string_agg(... ORDER BY seq)` sorts once an aggregate, a quarter of the database's time):
    PostgreSQL aggregates rows in the order it reads them, though it does not promise to. The
    columns of a run stay aligned whatever that order, and a run out of order only fails the
    whole check and is walked event by event, in seq order (`audit.walk_events`)."""
    quote = connection.ops.quote_name
    where, params = _where(streams)
    stream, seq = quote("stream"), quote("seq")
    events = [
        stream,
        seq,
        f"({seq} - 1) / {RUN_EVENTS} AS run",
        f"{quote('id')}::text AS id",
        *(f"{_json_text(quote(c))} AS {c}" for c in _RUN_STRINGS),
        f"{_canonical_sql()} AS canonical",
    ]
    joined = [
        "string_agg(id, ',')",
        f"string_agg({seq}::text, ',')",
        *(f"string_agg({c}, {_BETWEEN_EVENTS_SQL})" for c in (*_RUN_STRINGS, "canonical")),
    ]
    table = quote(AuditEvent._meta.db_table)
    sql = (
        f"SELECT {stream}, {', '.join(joined)} FROM ("  # noqa: S608
        f"SELECT {', '.join(events)} FROM {table}{where} ORDER BY {stream}, run, {seq}"
        f") AS events GROUP BY {stream}, run ORDER BY {stream}, run"
    )
    return sql, params


_RUN_STRINGS = ("prev_hash", "hash", "digest")
# Between two events' values in a run: a control character JSON never writes raw, COPY does
# not escape, and that differs from _AROUND_JSON.
_BETWEEN_EVENTS = b"\x1e"
_BETWEEN_EVENTS_TEXT = _BETWEEN_EVENTS.decode()
_BETWEEN_EVENTS_SQL = "chr(30)"
_BETWEEN_QUOTED_VALUES = f'"{_BETWEEN_EVENTS_TEXT}"'


def _copied_runs(streams: tuple[str | None, str | None]) -> Iterator[EventRun]:
    sql, params = _run_sql(streams)
    copy_sql = f"COPY ({sql}) TO STDOUT"
    # The backend sends each row of a COPY TO as one message, ending in a newline.
    with connection.cursor() as cursor:
        # Workers to read the table in parallel would take the cores the verifier hashes on,
        # and cost more CPU in all than they save time.
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        with cursor.cursor.copy(copy_sql, params) as copy:
            for message in copy:
                yield _run_of(bytes(message[:-1]))


def _run_of(line: bytes) -> EventRun:
    stream, ids, seqs, prev_hashes, hashes, digests, canonicals = _copy_fields(line)
    return EventRun(
        stream.decode(),
        ids,
        seqs,
        _strings(prev_hashes),
        _strings(hashes),
        _strings(digests),
        _canonicals(canonicals),
    )


def _integers(joined: bytes) -> list[int]:
    return list(map(int, joined.split(b",")))


def _strings(joined: bytes) -> list[str]:
    text = joined.decode()
    if "\\" in text:  # an escape (only a value written by hand has one): JSON says what it is
        return [json.loads(value) for value in text.split(_BETWEEN_EVENTS_TEXT)]
    # Otherwise no value holds a quote: the quotes around each are cut off by the split.
    return text[1:-1].split(_BETWEEN_QUOTED_VALUES)


def _canonicals(joined: bytes) -> list[bytes]:
    texts = joined.split(_BETWEEN_EVENTS)
    if _AROUND_JSON in joined:
        texts = [_with_canonical_json(text) if _AROUND_JSON in text else text for text in texts]
    return texts


def _with_canonical_json(text: bytes) -> bytes:
    before, changes, between, detail, after = text.split(_AROUND_JSON)
    if changes != b"{}":
        changes = _json_part(changes.decode()).encode()
    if detail != b"{}":
        detail = _json_part(detail.decode()).encode()
    return b"".join((before, changes, between, detail, after))


# --- Elsewhere: columns read in chunks, filled into the template -----------------------------


def _templated_rows(streams: tuple[str | None, str | None]) -> Iterator[EventRow]:
    quote = connection.ops.quote_name
    expressions = []
    for column in _ROW_COLUMNS:
        if column in _JSON_INTEGERS:
            expressions.append(_integer_text(quote(column)))
        else:
            expressions.append(quote(column))
    sql, params = _select(expressions, streams)
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(VERIFY_FETCH_ROWS):
            for row in rows:
                row = (*row[:3], _at_text(row[3]), *row[4:])
                yield (row[0], row[1], row[2], row[16], row[17], row[18], canonical_row_bytes(row))


def _runs_of(rows: Iterator[EventRow]) -> Iterator[EventRun]:
    columns: list[list] = []
    stream = None
    for row in rows:
        if row[1] != stream or len(columns[0]) == RUN_EVENTS:
            if columns:
                yield _run_from(stream, columns)
            columns, stream = [[], [], [], [], [], []], row[1]
        for column, value in zip(columns, (*row[:1], *row[2:]), strict=True):
            column.append(value)
    if columns:
        yield _run_from(stream, columns)


def _run_from(stream: str, columns: list[list]) -> EventRun:
    ids, seqs, prev_hashes, hashes, digests, canonicals = columns
    return EventRun(
        stream,
        _joined_integers(ids),
        _joined_integers(seqs),
        prev_hashes,
        hashes,
        digests,
        canonicals,
    )


def _json_part(value: Any) -> str:
    """A JSON column as canonical_bytes writes it, from the database's text (its spacing and
    key order are the database's, so it is decoded first) or a decoded value."""
    if isinstance(value, str):
        try:
            value = _scan_json(value, 0)[0]
        except StopIteration:  # not JSON from its first character: let json.loads say why
            value = json.loads(value)
    return _encode_json(value)


def _at_text(at: Any) -> str:
    """An event's time as canonical_bytes writes it, from a datetime or SQLite's naive UTC text."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return at.isoformat(timespec="microseconds")


def _at_sql(column: str) -> str:
    # In the database, not per row in Python: the same text as _at_text.
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""


def canonical_row_bytes(row: tuple) -> bytes:
    """canonical_bytes of the event in `row` (columns as _ROW_COLUMNS, the time as its
    canonical text), without a model instance. Most events' JSON columns are empty."""
    changes, detail = row[14], row[15]
    return (
        _CANONICAL_TEMPLATE
        % (
            _quote(row[6]),
            _quote(row[5]),
            row[4],
            row[3],
            changes if changes == "{}" else _json_part(changes),
            _quote(row[13]),
            _quote(row[9]),
            detail if detail == "{}" else _json_part(detail),
            _quote(row[10]),
            _quote(row[7]),
            _quote(row[16]),
            row[12],
            row[2],
            _quote(row[1]),
            row[8],
            _quote(row[11]),
        )
    ).encode()
