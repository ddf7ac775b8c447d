"""The full verification reads rows, not models (issue 12): on PostgreSQL the database writes
each event's canonical text and COPY streams it, elsewhere a template is filled in. Either way
the bytes must be exactly those `canonical_bytes` gives, whatever the event holds and however
the database hands its columns back."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
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


@pytest.mark.parametrize("read_rows", [1, 2])
def test_a_verification_read_in_small_chunks_finds_the_altered_comment(
    cast, monkeypatch, read_rows
):
    text = cast.text()
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "return", comment="请补充")
    monkeypatch.setattr(audit_rows, "VERIFY_FETCH_ROWS", read_rows)
    target = AuditEvent.objects.get(stream=audit.text_stream(text.pk), seq=2)
    tamper(f"UPDATE {EVENTS} SET comment = %s WHERE id = %s", ["已改", target.pk])

    result = audit.verify()

    assert not result.ok
    assert result.first_bad == target.pk
    assert result.detail == f"事件 #{target.pk} 的内容与其哈希不符（被改动）"


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
def stored_events(draw, number: int) -> AuditEvent:
    text = st.one_of(st.just(awkward), stored_text)
    return AuditEvent(
        stream=f"{draw(st.sampled_from(['text', 'user', awkward[:16]]))}:{number}",
        seq=1,
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
        prev_hash=audit.GENESIS_HASH,
        hash="0" * 64,
        digest=draw(st.sampled_from(digests.ALGORITHMS)),
    )


@given(
    made=st.lists(
        st.integers(min_value=0, max_value=2**20), min_size=1, max_size=6, unique=True
    ).flatmap(lambda numbers: st.tuples(*(stored_events(n) for n in numbers)))
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_database_gives_the_canonical_bytes_of_any_stored_event(db, made):
    with transaction.atomic():
        AuditEvent.objects.bulk_create(made)
        stored = {event.pk: event for event in AuditEvent.objects.all()}
        rows = list(audit_rows.event_rows())
        transaction.set_rollback(True)

    assert len(rows) == len(stored)
    for row in rows:
        assert row[6] == audit.canonical_bytes(stored[row[0]])
