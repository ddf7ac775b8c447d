"""`verify_audit --jobs N` (issue 12): the streams split into ranges walked by processes of
their own, all in the snapshot the verification began in, give exactly the single walk's
result, whatever was done to the log."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connections, transaction

from tests.factories import act
from tests.tampering import EVENTS, tamper
from workflow import audit, parallel_verification
from workflow.models import AuditChain, AuditEvent
from workflow.parallel_verification import split


def heads(*lengths: int) -> dict[str, tuple[int, str]]:
    return {f"text:{n:03d}": (length, "0" * 64) for n, length in enumerate(lengths)}


def test_the_streams_are_cut_into_neighbouring_runs_of_about_as_many_events():
    runs = split(heads(5, 5, 5, 5, 5, 5, 5, 5), 2)

    assert runs == [[f"text:{n:03d}" for n in range(4)], [f"text:{n:03d}" for n in range(4, 8)]]


def test_a_long_stream_makes_a_run_of_its_own():
    runs = split(heads(1, 1, 100, 1, 1), 3)

    assert runs[1] == ["text:002"]
    assert [name for run in runs for name in run] == list(heads(1, 1, 100, 1, 1))


def test_never_more_runs_than_jobs_nor_than_streams():
    assert len(split(heads(*[3] * 50), 4)) == 4
    assert len(split(heads(7), 4)) == 1
    assert split({}, 4) == []


# --- The walk by several processes, on PostgreSQL ------------------------------------------------


@pytest.fixture
def log(transactional_db, cast):
    """A log of several texts' streams and the users' role streams, sealed once, committed
    (the other processes see only what is committed)."""
    texts = [cast.text() for _ in range(6)]
    for text in texts:
        act(cast.org_drafter, text, "submit")
        act(cast.org_reviewer, text, "return", comment="请补充测算依据")
    audit.seal()
    return texts


def verified_both_ways() -> tuple[audit.VerifyResult, audit.VerifyResult]:
    return audit.verify(jobs=1), audit.verify(jobs=3)


def outcome(result: audit.VerifyResult) -> tuple:
    return (
        result.ok,
        result.first_bad,
        result.detail,
        result.checked,
        result.unsealed,
        result.heads,
    )


@pytest.mark.postgres
def test_an_intact_log_verifies_in_parallel_as_it_does_alone(log):
    alone, parallel = verified_both_ways()

    assert alone.ok and alone.checked == AuditEvent.objects.count()
    assert outcome(parallel) == outcome(alone)


@pytest.mark.postgres
def test_an_event_altered_in_the_last_range_is_named_in_parallel(log):
    target = AuditEvent.objects.filter(stream=audit.text_stream(log[-1].pk)).last()
    with transaction.atomic():
        tamper(f"UPDATE {EVENTS} SET comment = %s WHERE id = %s", ["已改", target.pk])

    alone, parallel = verified_both_ways()

    assert not parallel.ok and parallel.first_bad == target.pk
    assert parallel.detail == f"事件 #{target.pk} 的内容与其哈希不符（被改动）"
    assert outcome(parallel) == outcome(alone)


@pytest.mark.postgres
def test_a_deleted_newest_event_is_named_in_parallel(log):
    stream = audit.text_stream(log[2].pk)
    newest = AuditEvent.objects.filter(stream=stream).last()
    with transaction.atomic():
        tamper(f"DELETE FROM {EVENTS} WHERE id = %s", [newest.pk])

    alone, parallel = verified_both_ways()

    assert not parallel.ok
    assert outcome(parallel) == outcome(alone)


@pytest.mark.postgres
def test_a_stream_gone_with_its_head_row_is_reported_in_parallel(log):
    stream = audit.text_stream(log[1].pk)
    with transaction.atomic():
        tamper(f"DELETE FROM {EVENTS} WHERE stream = %s", [stream])
        AuditChain.objects.filter(stream=stream).delete()

    alone, parallel = verified_both_ways()

    assert not parallel.ok
    assert stream not in parallel.heads
    assert outcome(parallel) == outcome(alone)


@pytest.mark.postgres
def test_events_written_once_the_verification_began_are_not_seen_by_its_processes(log, monkeypatch):
    """All processes read the snapshot the verification began in: an event committed by
    another session once it began is neither checked nor taken for a forged one."""
    walk = parallel_verification.walk
    columns = ", ".join(
        f.column
        for f in AuditEvent._meta.concrete_fields
        if not f.primary_key and f.column != "seq"
    )
    source = AuditEvent.objects.filter(stream=audit.text_stream(log[-1].pk)).last()

    def walk_after_a_write(*args, **kwargs):
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {EVENTS} (seq, {columns})"
                    f" SELECT seq + 100, {columns} FROM {EVENTS} WHERE id = %s",
                    [source.pk],
                )
            other.commit()
        finally:
            other.close()
        return walk(*args, **kwargs)

    monkeypatch.setattr(parallel_verification, "walk", walk_after_a_write)
    before = AuditEvent.objects.count()

    result = audit.verify(jobs=2)

    assert AuditEvent.objects.count() == before + 1
    assert result.ok, result.detail
    assert result.checked == before


@pytest.mark.postgres
def test_the_command_takes_jobs(log):
    out = StringIO()

    call_command("verify_audit", "--jobs", "2", stdout=out)

    assert f"audit log OK: {AuditEvent.objects.count()} events verified" in out.getvalue()


def test_the_command_refuses_no_jobs(cast):
    with pytest.raises(CommandError, match="--jobs must be 1 or more"):
        call_command("verify_audit", "--jobs", "0")
