"""Audit checkpoints (DESIGN.md, "Audit history"): periodic signed seals over every stream of
the log, kept in an append-only table and as a line in a file outside the database, so that
a deleted tail whose chain head was rewound to match is still detected by `verify` and by
`verify_audit`.

To tamper, a test gets past the database's append-only triggers as someone with DDL rights
could: on PostgreSQL by switching triggers off for its transaction, on SQLite by dropping
them and recreating them afterwards."""

import json
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from tests.factories import act
from tests.tampering import CHECKPOINTS, EVENTS, tamper
from workflow import audit
from workflow.models import AuditChain, AuditCheckpoint, AuditEvent, AuditSealedHead

# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def seal(django_capture_on_commit_callbacks):
    """seal() -> the checkpoint, with its file line written as its commit would."""

    def run() -> AuditCheckpoint | None:
        with django_capture_on_commit_callbacks(execute=True):
            return audit.seal()

    return run


def file_lines() -> list[dict[str, Any]]:
    path = settings.AUDIT_CHECKPOINT_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def every_head() -> dict[str, list]:
    return {c.stream: [c.length, c.head_hash] for c in AuditChain.objects.all()}


def stream_events(stream: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream=stream).order_by("seq"))


def assert_detected(expected_in_detail: str | None = None) -> None:
    result = audit.verify()
    assert result.ok is False, result.detail
    if expected_in_detail is not None:
        assert expected_in_detail in result.detail, result.detail
    with pytest.raises(CommandError, match="FAILED"):
        call_command("verify_audit")


@pytest.fixture
def sealed(cast, seal):
    """A text with four events (create, submit, return, submit) sealed by checkpoint 1."""
    text = cast.text()
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "return", comment="请补充")
    act(cast.org_drafter, text, "submit")
    checkpoint = seal()
    assert checkpoint is not None
    return text


# --- Sealing ---------------------------------------------------------------------------------


def test_the_first_seal_makes_checkpoint_1_covering_every_stream(cast, seal):
    text = cast.text()
    act(cast.org_drafter, text, "submit")

    checkpoint = seal()

    assert checkpoint.seq == 1
    heads = every_head()
    assert len(heads) > 1  # the text's stream and the users' grant streams
    assert checkpoint.heads == heads
    assert checkpoint.stream_count == len(heads)
    assert checkpoint.event_count == AuditEvent.objects.count()
    assert checkpoint.prev_hash == audit.GENESIS_HASH
    assert AuditCheckpoint.objects.count() == 1


def test_a_seal_appends_one_line_to_the_file_outside_the_database(cast, seal):
    cast.text()

    checkpoint = seal()

    [line] = file_lines()
    assert line["seq"] == 1
    assert line["hash"] == checkpoint.hash
    assert line["signature"] == checkpoint.signature
    assert line["event_count"] == checkpoint.event_count


def test_sealing_with_nothing_new_makes_no_checkpoint(cast, seal):
    cast.text()
    seal()

    again = seal()

    assert again is None
    assert AuditCheckpoint.objects.count() == 1
    assert len(file_lines()) == 1


def test_a_later_seal_holds_only_the_streams_that_changed(cast, seal):
    text = cast.text()
    first = seal()
    act(cast.org_drafter, text, "submit")

    second = seal()

    stream = audit.text_stream(text.pk)
    assert second.seq == 2
    assert second.prev_hash == first.hash
    assert second.heads == {stream: every_head()[stream]}
    assert second.event_count == AuditEvent.objects.count()
    assert second.stream_count == AuditChain.objects.count()
    assert [line["seq"] for line in file_lines()] == [1, 2]


def test_verify_holds_with_checkpoints_and_reports_the_latest(cast, sealed, seal):
    act(cast.org_reviewer, sealed, "dept_approve")
    latest = seal()

    result = audit.verify()

    assert result.ok is True, result.detail
    assert result.latest_checkpoint["seq"] == 2
    assert result.latest_checkpoint["event_count"] == latest.event_count
    call_command("verify_audit")


def test_events_after_the_last_checkpoint_still_verify(cast, sealed):
    act(cast.org_reviewer, sealed, "dept_approve")  # not sealed yet

    result = audit.verify()

    assert result.ok is True, result.detail
    assert result.latest_checkpoint["seq"] == 1


# --- Roots: each checkpoint commits to every head, at the cost of what it sealed ------------


def test_a_seal_reads_only_the_heads_that_changed_since_the_last_seal(cast, seal):
    """A province's log has hundreds of thousands of streams and a seal follows each change
    within seconds: the sealer must not read every stream's head each time."""
    for _ in range(5):
        cast.text()
    seal()
    text = cast.text()  # its stream and its creator's: the heads that changed
    changed = {audit.text_stream(text.pk)} | {
        name for name, head in every_head().items() if name.startswith("user:")
    }
    heads_read = []

    def count_rows(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "workflow_audit_chain" in sql and connection.vendor == "postgresql":
            heads_read.append(context["cursor"].rowcount)
        return result

    with connection.execute_wrapper(count_rows):
        checkpoint = seal()

    assert checkpoint.seq == 2
    assert set(checkpoint.heads) <= changed
    assert audit.text_stream(text.pk) in checkpoint.heads
    if connection.vendor == "postgresql":
        assert sum(heads_read) == len(checkpoint.heads) < AuditChain.objects.count()


def test_each_checkpoint_counts_every_event_and_stream_though_it_reads_only_what_changed(
    cast, seal
):
    text = cast.text()
    seal()
    act(cast.org_drafter, text, "submit")
    seal()
    cast.text()

    third = seal()

    assert third.event_count == AuditEvent.objects.count()
    assert third.stream_count == AuditChain.objects.count()


def test_a_checkpoint_re_signed_with_a_root_that_does_not_follow_is_detected(cast, sealed, seal):
    """Someone holding the signing key can re-sign a checkpoint; its root must still follow
    from the previous checkpoint's and the heads it sealed."""
    act(cast.org_reviewer, sealed, "dept_approve")
    second = seal()
    second.root = audit._chained_root(audit.GENESIS_HASH, second.heads, second.digest)
    second.hash = audit._digest(audit._checkpoint_document(second), second.digest)
    second.signature = audit._sign(second.hash, second.signature_digest)
    tamper(
        f"UPDATE {CHECKPOINTS} SET root = %s, hash = %s, signature = %s WHERE seq = 2",
        [second.root, second.hash, second.signature],
    )

    assert_detected("检查点 2 的根哈希")


def seal_as_before_chained_roots() -> AuditCheckpoint:
    """Checkpoint 1 as releases before migration 0019 made it: its root the hash of every
    stream's head (`map`), its line in the file."""
    heads = every_head()
    checkpoint = AuditCheckpoint(
        seq=1,
        event_count=sum(length for length, _hash in heads.values()),
        stream_count=len(heads),
        heads=heads,
        prev_hash=audit.GENESIS_HASH,
        root_kind=AuditCheckpoint.RootKind.MAP,
        root=audit._digest(sorted(heads.items()), "sha256"),
    )
    checkpoint.hash = audit._digest(audit._checkpoint_document(checkpoint), checkpoint.digest)
    checkpoint.signature = audit._sign(checkpoint.hash, checkpoint.signature_digest)
    checkpoint.save(force_insert=True)
    AuditSealedHead.objects.bulk_create(
        AuditSealedHead(stream=name, length=head[0], head_hash=head[1])
        for name, head in heads.items()
    )
    audit._append_to_file(audit._file_line(checkpoint))
    return checkpoint


def test_a_log_sealed_before_chained_roots_still_verifies_and_later_seals_chain_after_it(
    cast, seal
):
    text = cast.text()
    act(cast.org_drafter, text, "submit")
    first = seal_as_before_chained_roots()
    audit.verify_and_keep()
    act(cast.org_reviewer, text, "dept_approve")

    second = seal()

    assert second.root_kind == AuditCheckpoint.RootKind.CHAIN
    assert second.event_count == AuditEvent.objects.count()
    assert second.prev_hash == first.hash
    assert audit.verify().ok is True
    assert audit.verify_new_and_keep().ok is True


def test_a_map_root_that_does_not_hash_every_head_is_detected(cast, seal):
    text = cast.text()
    first = seal_as_before_chained_roots()
    wrong = dict(first.heads)
    wrong[audit.text_stream(text.pk)] = [9, "0" * 64]
    first.root = audit._digest(sorted(wrong.items()), first.digest)
    first.hash = audit._digest(audit._checkpoint_document(first), first.digest)
    first.signature = audit._sign(first.hash, first.signature_digest)
    tamper(
        f"UPDATE {CHECKPOINTS} SET root = %s, hash = %s, signature = %s WHERE seq = 1",
        [first.root, first.hash, first.signature],
    )
    settings.AUDIT_CHECKPOINT_FILE.unlink()  # the file's line would disagree first
    audit._append_to_file(audit._file_line(first))

    assert_detected("检查点 1 的根哈希")


# --- Tampering that only a checkpoint reveals ------------------------------------------------


def test_a_deleted_tail_with_its_chain_head_rewound_is_detected(sealed):
    stream = audit.text_stream(sealed.pk)
    events = stream_events(stream)
    kept = events[1]  # keep create and the first submit; delete the return and resubmit
    tamper(f"DELETE FROM {EVENTS} WHERE stream = %s AND seq > %s", [stream, kept.seq])
    AuditChain.objects.filter(stream=stream).update(length=kept.seq, head_hash=kept.hash)

    assert_detected(stream)


def test_a_stream_deleted_whole_with_its_chain_head_is_detected(sealed):
    stream = audit.text_stream(sealed.pk)
    tamper(f"DELETE FROM {EVENTS} WHERE stream = %s", [stream])
    AuditChain.objects.filter(stream=stream).delete()

    assert_detected(stream)


def test_a_deleted_tail_is_detected_even_when_its_checkpoints_are_deleted_too(sealed):
    """The file outside the database still has the checkpoint's line."""
    stream = audit.text_stream(sealed.pk)
    kept = stream_events(stream)[1]
    tamper(f"DELETE FROM {EVENTS} WHERE stream = %s AND seq > %s", [stream, kept.seq])
    AuditChain.objects.filter(stream=stream).update(length=kept.seq, head_hash=kept.hash)
    tamper(f"DELETE FROM {CHECKPOINTS}")

    assert_detected()


def _rewrite_and_rehash(stream: str, from_seq: int, comment: str) -> None:
    """Rewrite one event's comment and re-hash it and every later event of its stream, then
    fix the stream's head: the chain itself is consistent again, only the seals can tell."""
    prev_hash = None
    for event in stream_events(stream):
        if event.seq < from_seq:
            prev_hash = event.hash
            continue
        if event.seq == from_seq:
            event.comment = comment
        event.prev_hash = prev_hash
        event.hash = audit.compute_hash(event)
        tamper(
            f"UPDATE {EVENTS} SET comment = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [event.comment, event.prev_hash, event.hash, event.pk],
        )
        prev_hash = event.hash
    AuditChain.objects.filter(stream=stream).update(head_hash=prev_hash)


def test_a_rewritten_and_rehashed_sealed_event_is_the_one_named(cast, sealed, seal):
    act(cast.org_reviewer, sealed, "dept_approve")
    seal()  # seals the dept_approve as the stream's 5th event
    act(cast.finance, sealed, "finance_approve")  # a 6th, not sealed yet
    stream = audit.text_stream(sealed.pk)
    rewritten = stream_events(stream)[4]

    _rewrite_and_rehash(stream, rewritten.seq, "同意（改）")

    result = audit.verify()
    assert result.ok is False
    assert result.first_bad == rewritten.pk, result.detail
    assert f"第 {rewritten.seq} 条" in result.detail


def test_a_rewrite_between_two_seals_names_the_first_seal_it_breaks_and_the_range(cast, sealed):
    stream = audit.text_stream(sealed.pk)
    events = stream_events(stream)  # four events, sealed at the 4th only

    _rewrite_and_rehash(stream, events[2].seq, "请补充（改）")

    result = audit.verify()
    assert result.ok is False
    assert result.first_bad == events[3].pk, result.detail
    assert "第 1 至 4 条" in result.detail


# --- Tampering with the checkpoints themselves -----------------------------------------------


def test_an_altered_checkpoint_row_is_detected(sealed):
    tamper(f"UPDATE {CHECKPOINTS} SET event_count = event_count - 1 WHERE seq = 1")

    assert_detected("检查点 1")


def test_a_checkpoint_whose_heads_were_rewritten_is_detected(sealed):
    checkpoint = AuditCheckpoint.objects.get(seq=1)
    heads = dict(checkpoint.heads)
    stream = audit.text_stream(sealed.pk)
    heads[stream] = [2, stream_events(stream)[1].hash]
    tamper(f"UPDATE {CHECKPOINTS} SET heads = %s WHERE seq = 1", [json.dumps(heads)])

    assert_detected("检查点 1")


def test_a_deleted_checkpoint_row_whose_line_is_in_the_file_is_detected(cast, sealed, seal):
    act(cast.org_reviewer, sealed, "dept_approve")
    seal()
    tamper(f"DELETE FROM {CHECKPOINTS} WHERE seq = 2")

    assert_detected("检查点 2")


def test_a_deleted_first_checkpoint_row_is_detected(cast, sealed, seal):
    act(cast.org_reviewer, sealed, "dept_approve")
    seal()
    tamper(f"DELETE FROM {CHECKPOINTS} WHERE seq = 1")

    assert_detected("检查点 1")


def test_an_altered_line_in_the_checkpoint_file_is_detected(sealed):
    path = settings.AUDIT_CHECKPOINT_FILE
    [line] = file_lines()
    line["hash"] = "f" * 64
    path.write_text(json.dumps(line, sort_keys=True) + "\n", encoding="utf-8")

    assert_detected("检查点 1")


def test_an_unreadable_line_in_the_checkpoint_file_is_detected(sealed):
    path = settings.AUDIT_CHECKPOINT_FILE
    path.write_text(path.read_text(encoding="utf-8") + "not json\n", encoding="utf-8")

    assert_detected("第 2 行")


def test_a_missing_checkpoint_file_is_detected(sealed):
    settings.AUDIT_CHECKPOINT_FILE.unlink()

    assert_detected()


# --- The database keeps checkpoints append-only ----------------------------------------------


def test_the_database_refuses_to_update_a_checkpoint(sealed):
    checkpoint = AuditCheckpoint.objects.get(seq=1)

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {CHECKPOINTS} SET event_count = 0 WHERE seq = 1")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(root="0" * 64)

    assert AuditCheckpoint.objects.get(seq=1).event_count == checkpoint.event_count
    assert audit.verify().ok is True


def test_the_database_refuses_to_delete_a_checkpoint(sealed):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CHECKPOINTS} WHERE seq = 1")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditCheckpoint.objects.all().delete()

    assert AuditCheckpoint.objects.filter(seq=1).exists()


@pytest.mark.postgres
def test_postgres_refuses_to_truncate_the_checkpoints(sealed):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {CHECKPOINTS}")

    assert AuditCheckpoint.objects.count() == 1


def test_the_append_only_protection_is_back_after_a_tamper(sealed):
    """The helper above puts the triggers back: later statements are refused again."""
    tamper(f"UPDATE {CHECKPOINTS} SET event_count = event_count WHERE seq = 1")

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CHECKPOINTS} WHERE seq = 1")
