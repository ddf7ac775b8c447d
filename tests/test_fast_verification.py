"""The full verification reads rows, not models (issue 12): on PostgreSQL the database writes
each event's canonical text and COPY streams it, elsewhere a template is filled in. Either way
the bytes must be exactly those `canonical_bytes` gives, whatever the event holds and however
the database hands its columns back."""

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from unittest import mock

import pytest
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.factories import act
from tests.tampering import EVENTS, tamper
from workflow import audit, audit_rows, digests
from workflow.models import AuditEvent

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=5)
maybe_id = st.none() | st.integers(min_value=1, max_value=2**53)
times = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(None)
)
offsets = st.none() | st.integers(min_value=-14 * 60, max_value=14 * 60)


@st.composite
def events(draw) -> AuditEvent:
    at = draw(times)
    offset = draw(offsets)
    if offset is not None:
        at = at.replace(tzinfo=timezone(timedelta(minutes=offset)))
    return AuditEvent(
        pk=draw(st.integers(min_value=1, max_value=2**62)),
        stream=draw(st.text(max_size=64)),
        seq=draw(st.integers(min_value=1, max_value=2**62)),
        at=at,
        actor_id=draw(maybe_id),
        actor_name=draw(st.text(max_size=150)),
        action=draw(st.text(max_size=32)),
        outcome=draw(st.text(max_size=8)),
        text_id=draw(maybe_id),
        department=draw(st.text(max_size=32)),
        from_state=draw(st.text(max_size=32)),
        to_state=draw(st.text(max_size=32)),
        revision=draw(st.none() | st.integers(min_value=0, max_value=2**31)),
        comment=draw(st.text()),
        changes=draw(json_objects),
        detail=draw(json_objects),
        prev_hash=draw(st.text(alphabet='0123456789abcdef"\\', min_size=64, max_size=64)),
        hash="",
        digest=draw(st.sampled_from(digests.ALGORITHMS)),
    )


def row_of(event: AuditEvent, *, json_as_text: bool) -> tuple:
    """The event as the template reads it (`_ROW_COLUMNS`): integers as their JSON text, the
    time as its canonical text, and JSON columns as values or, with `json_as_text`, as the
    database's text (default spacing, keys unsorted)."""
    values = {
        column: getattr(event, column) for column in audit_rows._ROW_COLUMNS if column != "id"
    }
    values["id"] = event.pk
    for column in audit_rows._JSON_INTEGERS:
        values[column] = json.dumps(values[column])
    values["at"] = audit_rows._at_text(event.at)
    if json_as_text:
        values["changes"] = json.dumps(event.changes)
        values["detail"] = json.dumps(event.detail)
    return tuple(values[column] for column in audit_rows._ROW_COLUMNS)


@given(event=events(), json_as_text=st.booleans())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_fast_encoder_gives_the_canonical_bytes_of_any_event(event, json_as_text):
    assert audit_rows.canonical_row_bytes(
        row_of(event, json_as_text=json_as_text)
    ) == audit.canonical_bytes(event)


@given(event=events())
@settings(max_examples=100, deadline=None)
def test_the_fast_hash_is_the_events_hash_under_its_own_algorithm(event):
    fast = audit._row_hash(
        event.digest, audit_rows.canonical_row_bytes(row_of(event, json_as_text=False))
    )

    assert fast == audit.compute_hash(event)


@given(at=times)
def test_sqlites_naive_utc_text_gives_the_canonical_time(at):
    assert audit_rows._at_text(str(at)) == at.replace(tzinfo=UTC).isoformat(timespec="microseconds")


def test_the_rows_read_back_from_the_database_encode_as_their_events(cast):
    text = cast.text()
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "return", comment="请补充“培训人次”\n与单价")

    rows = {row[0]: row for row in audit_rows.event_rows()}
    stored = list(AuditEvent.objects.all())

    assert stored and all(rows[event.pk][6] == audit.canonical_bytes(event) for event in stored)


def test_the_rows_come_in_stream_then_seq_order(cast):
    first, second = cast.text(), cast.text()
    act(cast.org_drafter, second, "submit")
    act(cast.org_drafter, first, "submit")

    keys = [(row[1], row[2]) for row in audit_rows.event_rows()]

    assert keys == sorted(keys)


def second_event_of_a_returned_text(cast) -> AuditEvent:
    """The second event (the submit) of a text submitted and returned with a comment."""
    text = cast.text()
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "return", comment="请补充")
    return AuditEvent.objects.get(stream=audit.text_stream(text.pk), seq=2)


@pytest.mark.parametrize("run_events", [1, 2, 1000])
def test_a_verification_read_in_runs_of_any_length_finds_the_altered_comment(
    cast, monkeypatch, run_events
):
    monkeypatch.setattr(audit_rows, "RUN_EVENTS", run_events)
    target = second_event_of_a_returned_text(cast)
    tamper(f"UPDATE {EVENTS} SET comment = %s WHERE id = %s", ["已改", target.pk])

    result = audit.verify()

    assert not result.ok
    assert result.first_bad == target.pk
    assert result.detail == f"事件 #{target.pk} 的内容与其哈希不符（被改动）"


@pytest.mark.sqlite
@pytest.mark.parametrize("read_rows", [1, 2])
def test_sqlite_read_in_small_chunks_finds_the_altered_comment(cast, monkeypatch, read_rows):
    monkeypatch.setattr(audit_rows, "VERIFY_FETCH_ROWS", read_rows)
    target = second_event_of_a_returned_text(cast)
    tamper(f"UPDATE {EVENTS} SET comment = %s WHERE id = %s", ["已改", target.pk])

    assert audit.verify().first_bad == target.pk


def test_a_stream_longer_than_a_run_comes_in_runs_of_its_own(cast, monkeypatch):
    text = cast.text()
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "return", comment="请补充")
    monkeypatch.setattr(audit_rows, "RUN_EVENTS", 2)
    stream = audit.text_stream(text.pk)

    runs = [run for run in audit_rows.event_runs() if run.stream == stream]

    assert [run.seqs for run in runs] == [[1, 2], [3]]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("hash", "0" * 30 + "\x1e" + "0" * 33),  # the character between two events of a run
        ("prev_hash", "a,b" + "0" * 61),
        ("hash", '"' + "\\" * 20),
        ("digest", "md5"),  # no algorithm of the log's
        ("digest", "sha256\x1e"),
    ],
)
def test_a_rewritten_hash_or_algorithm_names_its_event_whatever_it_holds(cast, column, value):
    target = second_event_of_a_returned_text(cast)
    tamper(f"UPDATE {EVENTS} SET {column} = %s WHERE id = %s", [value, target.pk])

    result = audit.verify()

    assert not result.ok
    assert result.first_bad == target.pk
    [row] = [row for row in audit_rows.event_rows() if row[0] == target.pk]
    assert row[{"prev_hash": 3, "hash": 4, "digest": 5}[column]] == value


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 12, 7, 5, 38, 57, tzinfo=UTC),  # no microseconds
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),  # a three-digit year
    ],
)
def test_the_databases_time_text_is_the_canonical_time(cast, at):
    text = cast.text()
    event = AuditEvent.objects.get(stream=audit.text_stream(text.pk), seq=1)
    tamper(f"UPDATE {EVENTS} SET at = %s WHERE id = %s", [at, event.pk])
    event.refresh_from_db()

    [row] = [row for row in audit_rows.event_rows() if row[0] == event.pk]

    assert f'"at":"{at.isoformat(timespec="microseconds")}"'.encode() in row[6]
    assert row[6] == audit.canonical_bytes(event)


def test_each_row_names_its_event_its_place_and_its_hashes(cast):
    text = cast.text()
    event = AuditEvent.objects.get(stream=audit.text_stream(text.pk), seq=1)

    [row] = [row for row in audit_rows.event_rows() if row[0] == event.pk]

    assert row[:6] == (event.pk, event.stream, 1, event.prev_hash, event.hash, event.digest)


# What a database column can hold: no NUL (neither PostgreSQL's text nor its jsonb takes one),
# no lone surrogate.
stored_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
# A float of 1e16 or more is written by Python as 1e+16, which jsonb keeps as the integer
# 10000000000000000: such a value does not survive storage in any reading of the log.
stored_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
    | stored_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(stored_text, inner, max_size=3),
    max_leaves=8,
)
stored_objects = st.dictionaries(stored_text, stored_json, max_size=3)
# Every character JSON or COPY escapes, and the one that splits an event's text around its
# JSON columns.
awkward = '"\\\b\f\n\r\t\v\x01\x1e\x1f\x7f\u2028 中文 😀 \\N \\x41'


@st.composite
def stored_events(draw, stream: str, seq: int) -> AuditEvent:
    text = st.one_of(st.just(awkward), stored_text)
    return AuditEvent(
        stream=stream,
        seq=seq,
        at=draw(st.datetimes(timezones=st.just(UTC), min_value=datetime(1000, 1, 1))),
        actor_id=None,
        actor_name=draw(text.map(lambda t: t[:150])),
        action=draw(text.map(lambda t: t[:32])),
        outcome=draw(text.map(lambda t: t[:8])),
        text_id=None,
        department=draw(text.map(lambda t: t[:32])),
        from_state=draw(text.map(lambda t: t[:32])),
        to_state=draw(text.map(lambda t: t[:32])),
        revision=draw(st.none() | st.integers(min_value=0, max_value=2**31 - 1)),
        comment=draw(text),
        changes=draw(stored_objects),
        detail=draw(st.one_of(st.just({awkward: [awkward, 1.5, None]}), stored_objects)),
        # What a hand could write into them, not only hex digits and an algorithm's name.
        prev_hash=draw(st.one_of(st.just(audit.GENESIS_HASH), text.map(lambda t: t[:64]))),
        hash=draw(st.one_of(st.just("0" * 64), text.map(lambda t: t[:64]))),
        digest=draw(st.one_of(st.sampled_from(digests.ALGORITHMS), text.map(lambda t: t[:16]))),
    )


@st.composite
def stored_streams(draw, number: int) -> list[AuditEvent]:
    stream = f"{draw(st.sampled_from(['text', 'user', awkward[:16]]))}:{number}"
    length = draw(st.integers(min_value=1, max_value=3))
    return [draw(stored_events(stream, seq)) for seq in range(1, length + 1)]


@given(
    made=st.lists(
        st.integers(min_value=0, max_value=2**20), min_size=1, max_size=5, unique=True
    ).flatmap(lambda numbers: st.tuples(*(stored_streams(n) for n in numbers)))
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_database_gives_every_stored_event_as_it_holds_it(db, made):
    with transaction.atomic():
        AuditEvent.objects.bulk_create([event for stream in made for event in stream])
        stored = {event.pk: event for event in AuditEvent.objects.all()}
        rows = list(audit_rows.event_rows())
        transaction.set_rollback(True)

    assert len(rows) == len(stored)
    for row in rows:
        event = stored[row[0]]
        columns = (event.stream, event.seq, event.prev_hash, event.hash, event.digest)
        assert row == (event.pk, *columns, audit.canonical_bytes(event))


@st.composite
def walked_logs(draw) -> tuple[list[audit_rows.EventRun], dict, dict]:
    """Streams chained as the log chains them, then perhaps rewritten (a hash, a link, a
    place, the content; an event gone), cut into runs anywhere; with head rows and seals that
    may or may not match."""
    runs: list[audit_rows.EventRun] = []
    heads: dict[str, tuple[int, str]] = {}
    points: dict[str, dict[int, str]] = {}
    for number in range(draw(st.integers(min_value=1, max_value=4))):
        stream = f"text:{number}"
        rows, prev = [], audit.GENESIS_HASH
        for seq in range(1, draw(st.integers(min_value=1, max_value=7)) + 1):
            digest = draw(st.sampled_from(digests.ALGORITHMS))
            data = draw(st.binary(max_size=8)) + prev.encode()
            stored = digests.hexdigest(digest, data)
            rows.append([100 * number + seq, stream, seq, prev, stored, digest, data])
            prev = stored
        for row in draw(st.lists(st.sampled_from(rows), max_size=2)):
            column = draw(st.sampled_from([2, 3, 4, 5, 6]))
            row[column] = {2: 99, 3: "f" * 64, 4: "e" * 64, 5: "md5", 6: b"rewritten"}[column]
        if len(rows) > 1 and draw(st.booleans()):
            del rows[draw(st.integers(min_value=0, max_value=len(rows) - 1))]
        heads[stream] = draw(st.sampled_from([(len(rows), prev), (len(rows) + 1, prev)]))
        for length in draw(st.sets(st.integers(min_value=1, max_value=8), max_size=3)):
            stored = rows[length - 1][4] if length <= len(rows) else "d" * 64
            points.setdefault(stream, {})[length] = draw(st.sampled_from([stored, "c" * 64]))
        while rows:
            size = draw(st.integers(min_value=1, max_value=len(rows)))
            runs.extend(audit_rows._runs_of(iter([tuple(row) for row in rows[:size]])))
            rows = rows[size:]
    return runs, heads, points


@given(log=walked_logs())
@settings(max_examples=300, deadline=None)
def test_a_run_checked_whole_finds_what_walking_its_events_one_by_one_finds(log):
    runs, heads, points = log
    seal_lengths = {name: max(p) for name, p in points.items()}

    def walked() -> audit.Walk:
        return audit.walk_events(runs, dict(heads), copy.deepcopy(points), dict(seal_lengths))

    whole = walked()
    with mock.patch.object(audit, "_passed_whole", return_value=False):
        one_by_one = walked()

    assert whole == one_by_one


@given(log=walked_logs(), data=st.data())
@settings(max_examples=100, deadline=None)
def test_a_run_whose_events_came_out_of_order_is_walked_in_seq_order(log, data):
    runs, heads, points = log
    assume(all(len(set(run.seqs)) == len(run.seqs) for run in runs))  # as the unique index has it
    seal_lengths = {name: max(p) for name, p in points.items()}

    def rerun(rows: list[tuple]) -> audit_rows.EventRun:
        return next(audit_rows._runs_of(iter(rows)))

    def walked(runs: list[audit_rows.EventRun]) -> audit.Walk:
        return audit.walk_events(runs, dict(heads), copy.deepcopy(points), dict(seal_lengths))

    in_order = [rerun(sorted(run.rows(), key=lambda row: row[2])) for run in runs]
    shuffled = [rerun(data.draw(st.permutations(list(run.rows())))) for run in runs]

    assert walked(shuffled) == walked(in_order)
