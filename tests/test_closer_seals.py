"""Closer seals (issue 11): each change asks for a seal of the log a few seconds after its
commit (coalesced), beat's hourly seal becomes a backstop; every seal is written to the
checkpoint file with the heads it sealed and, optionally, to a syslog witness; verification
compares the log with the file's seals, and `verify_audit` names the events no seal covers.

The worker side (a real Celery worker sealing within seconds, tampering caught within a
minute) is in tests/test_closer_seals_live.py."""

import json
import socket
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from submissions.models import ProjectText
from tests.factories import act
from tests.tampering import CHECKPOINTS, EVENTS, tamper
from workflow import audit, tasks, witness
from workflow.models import AuditChain, AuditCheckpoint, AuditEvent, AuditSealedHead


@pytest.fixture
def seal(django_capture_on_commit_callbacks):
    def run() -> AuditCheckpoint | None:
        with django_capture_on_commit_callbacks(execute=True):
            return audit.seal()

    return run


@pytest.fixture
def enqueued(settings, monkeypatch) -> list[dict]:
    """As with a worker (not eager): every seal enqueued, by its options."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.AUDIT_SEAL_DELAY_SECONDS = 3
    monkeypatch.setattr(audit, "_seal_sent_at", 0.0)
    monkeypatch.setattr(audit, "_seal_timer", None)
    calls: list[dict] = []
    monkeypatch.setattr(tasks.seal_audit_log, "apply_async", lambda **kw: calls.append(kw))
    return calls


@pytest.fixture
def timers(monkeypatch) -> list[tuple[float, Callable[[], None]]]:
    """The window-end timers a process starts, by their wait, to be fired by the test."""
    started: list[tuple[float, Callable[[], None]]] = []

    def start(wait: float, callback: Callable[[], None]) -> str:
        started.append((wait, callback))
        return "timer"

    monkeypatch.setattr(audit, "_start_timer", start)
    return started


def stream_of(text) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream=audit.text_stream(text.pk)).order_by("seq"))


def file_lines(settings) -> list[dict]:
    path = settings.AUDIT_CHECKPOINT_FILE
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- Asking for a seal ------------------------------------------------------------------------


def test_a_change_asks_for_a_seal_as_soon_as_it_commits(
    cast, enqueued, timers, django_capture_on_commit_callbacks
):
    text = cast.text()

    with django_capture_on_commit_callbacks(execute=True):
        act(cast.org_drafter, text, "submit")

    # Never a countdown: a worker would hold the task unacknowledged until it was due.
    assert enqueued == [{"retry": False}]
    assert timers == []


def test_changes_within_the_window_are_sealed_by_one_more_seal_when_it_ends(
    cast, enqueued, timers, django_capture_on_commit_callbacks
):
    text = cast.text()
    with django_capture_on_commit_callbacks(execute=True):
        act(cast.org_drafter, text, "submit")
        act(cast.org_reviewer, text, "return", comment="请补充")
        act(cast.org_drafter, text, "submit")
    assert len(enqueued) == 1
    assert [round(wait) for wait, _callback in timers] == [3]

    timers[0][1]()

    assert enqueued == [{"retry": False}] * 2


def test_a_change_after_the_window_asks_again_at_once(
    cast, enqueued, timers, django_capture_on_commit_callbacks, monkeypatch
):
    text = cast.text()
    with django_capture_on_commit_callbacks(execute=True):
        act(cast.org_drafter, text, "submit")
    assert len(enqueued) == 1

    monkeypatch.setattr(audit, "_seal_sent_at", 0.0)  # the window has passed
    with django_capture_on_commit_callbacks(execute=True):
        act(cast.org_reviewer, text, "return", comment="请补充")

    assert len(enqueued) == 2
    assert timers == []


def test_a_broker_that_refuses_the_seal_does_not_fail_the_change(
    cast, enqueued, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(**kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.seal_audit_log, "apply_async", refuse)
    text = cast.text()

    with django_capture_on_commit_callbacks(execute=True):
        act(cast.org_drafter, text, "submit")

    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"


def test_without_a_worker_no_closer_seal_is_asked_for(
    cast, enqueued, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the embedded default: run_sweeps seals

    with django_capture_on_commit_callbacks(execute=True):
        cast.text()

    assert enqueued == []


def test_asking_for_a_seal_costs_no_query(cast, settings, enqueued):
    text, other = cast.text(), cast.text()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with CaptureQueriesContext(connection) as without:
        act(cast.org_drafter, text, "submit")
    settings.CELERY_TASK_ALWAYS_EAGER = False

    with CaptureQueriesContext(connection) as with_seal:
        act(cast.org_drafter, other, "submit")

    assert len(with_seal) == len(without)


def test_a_seal_reads_the_same_whatever_number_of_checkpoints_came_before(cast, seal):
    text = cast.text()
    seal()
    act(cast.org_drafter, text, "submit")
    with CaptureQueriesContext(connection) as early:
        seal()
    for action, who in [("return", cast.org_reviewer), ("submit", cast.org_drafter)] * 4:
        act(who, text, action, comment="理由")
        seal()
    act(cast.org_reviewer, text, "dept_approve")

    with CaptureQueriesContext(connection) as late:
        seal()

    assert AuditCheckpoint.objects.count() == 11
    assert len(late) == len(early)


def test_the_sealed_heads_follow_the_checkpoints(cast, seal):
    text = cast.text()
    seal()
    act(cast.org_drafter, text, "submit")
    seal()

    sealed = {h.stream: [h.length, h.head_hash] for h in AuditSealedHead.objects.all()}
    assert sealed == {c.stream: [c.length, c.head_hash] for c in AuditChain.objects.all()}


# --- Outside the database: the file and the witness ------------------------------------------


def test_the_file_line_holds_the_heads_the_seal_covered(cast, seal, settings):
    text = cast.text()
    seal()
    act(cast.org_drafter, text, "submit")

    second = seal()

    line = file_lines(settings)[-1]
    assert line["heads"] == second.heads
    assert line["digest"] == second.digest


@pytest.fixture
def syslog_receiver():
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    yield receiver
    receiver.close()


def test_the_witness_gets_each_seal_over_syslog(cast, seal, settings, syslog_receiver):
    port = syslog_receiver.getsockname()[1]
    settings.AUDIT_WITNESS_URL = f"syslog://127.0.0.1:{port}?facility=local6"
    cast.text()

    checkpoint = seal()

    message = syslog_receiver.recv(65536).decode()
    assert message.startswith("<182>")  # local6 (22) * 8 + info (6)
    document = json.loads(message.split(witness.TAG, 1)[1].rstrip("\x00"))
    assert document["hash"] == checkpoint.hash
    assert document["heads"] == checkpoint.heads


def test_a_seal_of_many_streams_reaches_the_witness_in_parts():
    heads = {f"text:{n}": [1, f"{n:064x}"] for n in range(witness.HEADS_PER_MESSAGE * 2 + 1)}
    line = json.dumps({"seq": 7, "hash": "ab" * 32, "heads": heads})

    parts = [json.loads(m) for m in witness.messages(line)]

    assert [p["part"] for p in parts] == [1, 2, 3]
    assert {p["parts"] for p in parts} == {3}
    assert {k: v for p in parts for k, v in p["heads"].items()} == heads


def test_an_unreachable_witness_does_not_stop_the_seal(cast, seal, settings):
    settings.AUDIT_WITNESS_URL = "syslog:///nonexistent/socket"
    cast.text()

    assert seal() is not None
    assert len(file_lines(settings)) == 1


def test_a_witness_url_that_is_no_syslog_address_fails_the_check(settings):
    settings.AUDIT_WITNESS_URL = "https://example.org/witness"

    with pytest.raises(SystemCheckError, match=r"workflow\.E103"):
        call_command("check")


# --- What only the copy outside the database still knows -------------------------------------


def _reseal_from_scratch(seal) -> None:
    """What the database's owner does to hide a change from the checkpoints: delete them and
    let the next seal start a fresh, consistent chain of checkpoints over the changed log."""
    tamper(f"DELETE FROM {CHECKPOINTS}")
    AuditSealedHead.objects.all().delete()
    seal()


def test_a_deleted_newest_event_is_caught_by_the_file_when_the_checkpoints_were_redone(cast, seal):
    text = cast.text_in("returned")
    seal()
    events = stream_of(text)
    kept = events[-2]
    tamper(f"DELETE FROM {EVENTS} WHERE id = %s", [events[-1].pk])
    AuditChain.objects.filter(stream=kept.stream).update(length=kept.seq, head_hash=kept.hash)
    _reseal_from_scratch(seal)

    details = every_problem()

    assert f"{kept.stream}: 检查点封存了 {kept.seq + 1} 条，现仅有 {kept.seq} 条" in details


def every_problem() -> list[str]:
    """Every problem a full verification finds, not only the first it reports."""
    details: list[str] = []
    original = audit._result

    def capture(problems, *args, **kwargs):
        details.extend(message for _id, message in problems)
        return original(problems, *args, **kwargs)

    audit._result = capture
    try:
        assert audit.verify().ok is False
    finally:
        audit._result = original
    return details


def test_a_forged_event_in_place_of_the_sealed_newest_is_named(cast, seal):
    """It chains correctly and the head is fixed: only the seal outside knows the original."""
    text = cast.text_in("returned")
    seal()
    events = stream_of(text)
    newest = events[-1]
    tamper(f"DELETE FROM {EVENTS} WHERE id = %s", [newest.pk])
    forged = AuditEvent(
        **{
            f.attname: getattr(newest, f.attname)
            for f in AuditEvent._meta.concrete_fields
            if f.attname != "id"
        }
    )
    forged.comment = "同意"
    forged.hash = audit.compute_hash(forged)
    forged.save(force_insert=True)
    AuditChain.objects.filter(stream=newest.stream).update(head_hash=forged.hash)
    _reseal_from_scratch(seal)

    result = audit.verify()

    assert result.ok is False
    assert result.first_bad == forged.pk, result.detail


# --- verify_audit names what no seal covers yet ----------------------------------------------


def test_verify_audit_says_which_events_no_seal_covers_yet(cast, seal, capsys):
    text = cast.text()
    seal()
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "return", comment="请补充")

    call_command("verify_audit")

    out = capsys.readouterr().out
    assert f"2 events after the last seal: text:{text.pk} seq 2..3" in out


def test_verify_audit_says_when_every_event_is_sealed(cast, seal, capsys):
    cast.text()
    seal()

    call_command("verify_audit")

    assert "every event is covered by a seal" in capsys.readouterr().out


def test_a_line_still_being_written_is_left_for_the_next_verification(cast, seal, settings):
    cast.text()
    seal()
    path = settings.AUDIT_CHECKPOINT_FILE
    whole = path.read_text(encoding="utf-8")
    path.write_text(whole + '{"seq": 2, "ha', encoding="utf-8")  # a seal's line, half-written

    assert audit.verify().ok is True

    path.write_text(whole + '{"seq": 2, "hash": "x"}\n', encoding="utf-8")
    assert audit.verify().ok is False
