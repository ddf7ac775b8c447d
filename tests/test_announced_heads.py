"""Announced heads (issue 11, closer checkpoints): every commit that appended audit events
announces its streams' new heads in the broker, outside the database; an event appended with
the application's database rights after the newest seal, chaining correctly and with its
head row moved along, was never announced, and is caught: by the worker's verification within
a minute, by `verify_audit`, and in the line of the seal that covers it. Real Redis
throughout; the worker's side on PostgreSQL. Nothing waits a fixed time: every wait polls."""

# ruff: noqa: F811 - the fixtures imported from tests.live are redefined as test parameters

import contextlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from tests.factories import act
from tests.live import (  # noqa: F401
    announce_existing_heads,
    celery_worker,
    live_broker,
    redis_server,
    wait_for,
)
from workflow import announcements, audit
from workflow.models import AuditChain, AuditEvent, AuditVerification

CAUGHT_WITHIN = 60


@pytest.fixture
def broker(db, live_broker):
    """This process on a real Redis, with the heads written before it announced."""
    announce_existing_heads()
    return live_broker


def announced_in_redis(broker, stream: str) -> str | None:
    with broker.client() as client:
        value = client.hget(announcements.KEY, stream)
    return value.decode() if value is not None else None


def head_of(stream: str) -> list:
    chain = AuditChain.objects.get(stream=stream)
    return [chain.length, chain.head_hash]


def forge_after_head(text) -> AuditEvent:
    """Append an event that chains after the stream's head and move the head row along, as
    the application's database role can: the database then holds together."""
    stream = audit.text_stream(text.pk)
    newest = AuditEvent.objects.filter(stream=stream).order_by("-seq").first()
    with transaction.atomic():
        forged = AuditEvent(
            **{
                f.attname: getattr(newest, f.attname)
                for f in AuditEvent._meta.concrete_fields
                if f.attname not in ("id", "seq", "prev_hash", "hash", "at")
            }
        )
        forged.seq, forged.prev_hash, forged.at = newest.seq + 1, newest.hash, timezone.now()
        forged.action, forged.comment = "approve", "同意"
        forged.hash = audit.compute_hash(forged)
        forged.save(force_insert=True)
        AuditChain.objects.filter(stream=stream).update(length=forged.seq, head_hash=forged.hash)
    return forged


def names_forgery(detail: str, forged: AuditEvent) -> bool:
    return f"{forged.stream}: 第 {forged.seq} 至 {forged.seq} 条事件从未经应用程序公告" in detail


# --- Announcing ------------------------------------------------------------------------------


def test_an_actions_commit_announces_its_streams_head_in_the_broker(
    cast, broker, django_capture_on_commit_callbacks
):
    text = cast.text()
    stream = audit.text_stream(text.pk)
    with django_capture_on_commit_callbacks(execute=True):
        act(cast.org_drafter, text, "submit")

    length, head_hash = head_of(stream)
    assert announced_in_redis(broker, stream) == f"{length}:{head_hash}"


def test_nothing_is_announced_before_the_commit(cast, broker, django_capture_on_commit_callbacks):
    text = cast.text()
    stream = audit.text_stream(text.pk)
    before = announced_in_redis(broker, stream)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        act(cast.org_drafter, text, "submit")

    assert callbacks
    assert announced_in_redis(broker, stream) == before


def test_events_of_a_rolled_back_savepoint_are_not_announced(
    cast, broker, django_capture_on_commit_callbacks
):
    text = cast.text()
    stream = audit.text_stream(text.pk)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        audit.record(stream=stream, actor=cast.org_drafter, action="edit", text_id=text.pk)
        committed = head_of(stream)
        with contextlib.suppress(RuntimeError), transaction.atomic():
            audit.record(stream=stream, actor=cast.org_drafter, action="edit", text_id=text.pk)
            raise RuntimeError("rolled back")

    assert head_of(stream) == committed
    assert announced_in_redis(broker, stream) == f"{committed[0]}:{committed[1]}"


def test_a_late_commit_of_an_older_length_never_lowers_the_announced_head(broker):
    assert announcements.announce({"text:99": [5, "e5"]})

    assert announcements.announce({"text:99": [3, "e3"]})

    assert announced_in_redis(broker, "text:99") == "5:e5"


def test_a_longer_head_raises_the_announcement(broker):
    announcements.announce({"text:99": [5, "e5"]})

    announcements.announce({"text:99": [6, "e6"]})

    assert announced_in_redis(broker, "text:99") == "6:e6"


def test_a_broker_that_is_down_fails_no_action_and_the_heads_are_sent_with_the_next(
    cast, broker, django_capture_on_commit_callbacks, caplog
):
    text = cast.text()
    stream = audit.text_stream(text.pk)
    broker.stop()
    with django_capture_on_commit_callbacks(execute=True):
        act(cast.org_drafter, text, "submit")
    assert "could not announce" in caplog.text

    broker.start()
    announcements.announce({})

    length, head_hash = head_of(stream)
    assert announced_in_redis(broker, stream) == f"{length}:{head_hash}"


# --- Sealing and verifying in this process ---------------------------------------------------


@pytest.fixture
def sealed_text(cast, broker, settings, tmp_path, django_capture_on_commit_callbacks):
    """A returned text, its events announced and sealed (file outside the database)."""
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "checkpoints.log"
    with django_capture_on_commit_callbacks(execute=True):
        text = cast.text_in("returned")
    with django_capture_on_commit_callbacks(execute=True):
        audit.seal()
    return text


def file_lines(settings) -> list[dict]:
    path = settings.AUDIT_CHECKPOINT_FILE
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_seal_names_the_forged_events_it_seals_in_its_line_outside_the_database(
    sealed_text, settings, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(announcements, "GRACE_SECONDS", 0.01)
    forged = forge_after_head(sealed_text)

    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = audit.seal()

    assert checkpoint is not None and checkpoint.heads[forged.stream][0] == forged.seq
    assert file_lines(settings)[-1]["unannounced"] == {forged.stream: [forged.seq - 1, forged.seq]}


def test_verification_reports_a_forged_event_that_a_seal_named(
    sealed_text, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(announcements, "GRACE_SECONDS", 0.01)
    forged = forge_after_head(sealed_text)
    with django_capture_on_commit_callbacks(execute=True):
        audit.seal()

    result = audit.verify()

    assert result.ok is False
    assert result.first_bad == forged.pk
    assert names_forgery(result.detail, forged), result.detail


def test_verification_reports_a_forged_event_no_seal_covers_yet(sealed_text, monkeypatch):
    monkeypatch.setattr(announcements, "GRACE_SECONDS", 0.01)
    forged = forge_after_head(sealed_text)

    result = audit.verify()

    assert result.first_bad == forged.pk
    assert names_forgery(result.detail, forged), result.detail


def test_an_announced_event_not_yet_sealed_is_not_reported(
    sealed_text, cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        act(cast.org_drafter, sealed_text, "submit")

    assert audit.verify().ok is True


def test_a_broker_holding_no_announcement_starts_over_from_the_databases_heads(
    sealed_text, broker, cast, django_capture_on_commit_callbacks
):
    stream = audit.text_stream(sealed_text.pk)
    with broker.client() as client:
        client.delete(announcements.KEY)  # a new broker, or one that lost its data
    with django_capture_on_commit_callbacks(execute=False):
        act(cast.org_drafter, sealed_text, "submit")  # its announcement lost too

    result = audit.verify()

    assert result.ok is True
    assert announced_in_redis(broker, stream).startswith(f"{head_of(stream)[0]}:")


def test_without_a_broker_nothing_is_announced_or_compared(
    cast, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "checkpoints.log"
    assert settings.REDIS_URL == ""
    text = cast.text_in("returned")
    with django_capture_on_commit_callbacks(execute=True):
        audit.seal()
    forge_after_head(text)

    result = audit.verify()

    assert result.ok is True
    assert "unannounced" not in file_lines(settings)[-1]


# --- With a real worker (PostgreSQL) ---------------------------------------------------------


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    # Beat's own seal is an hour away; the worker verifies (incrementally) every two seconds.
    return {"AUDIT_SEAL_DELAY_SECONDS": "1", "VERIFY_SECONDS": "2", "CHECKPOINT_SECONDS": "3600"}


@pytest.fixture
def worker(celery_worker, settings, monkeypatch):
    settings.AUDIT_SEAL_DELAY_SECONDS = 1
    settings.AUDIT_CHECKPOINT_FILE = celery_worker.checkpoint_file
    monkeypatch.setattr(audit, "_seal_sent_at", 0.0)
    return celery_worker


def sealed_in_file(worker, stream: str) -> list | None:
    if not worker.checkpoint_file.exists():
        return None
    head = None
    for line in worker.checkpoint_file.read_text(encoding="utf-8").splitlines():
        head = json.loads(line).get("heads", {}).get(stream, head)
    return head


def wait_until_sealed(worker, stream: str) -> None:
    head = head_of(stream)
    wait_for(
        lambda: sealed_in_file(worker, stream) == head,
        timeout=30,
        message=lambda: (
            f"file holds {sealed_in_file(worker, stream)}, head {head}\n" + worker.log_tail(40)
        ),
    )


def a_verification_after(moment, ok: bool | None = None) -> AuditVerification | None:
    kept = AuditVerification.objects.filter(at__gt=moment)
    if ok is not None:
        kept = kept.filter(ok=ok)
    return kept.order_by("-at").first()


@pytest.mark.postgres
def test_a_forged_event_appended_after_the_newest_seal_is_caught_within_a_minute(cast, worker):
    text = cast.text_in("returned")
    wait_until_sealed(worker, audit.text_stream(text.pk))
    assert not AuditVerification.objects.filter(ok=False).exists()

    moment = timezone.now()
    forged = forge_after_head(text)

    caught = wait_for(
        lambda: a_verification_after(moment, ok=False),
        timeout=CAUGHT_WITHIN,
        message=lambda: f"latest: {audit.latest_verification()}\n" + worker.log_tail(40),
    )
    assert caught.first_bad == forged.pk
    assert names_forgery(caught.detail, forged), caught.detail


@pytest.mark.postgres
def test_verify_audit_exits_non_zero_naming_a_forged_event_appended_after_the_newest_seal(
    cast, worker
):
    text = cast.text_in("returned")
    wait_until_sealed(worker, audit.text_stream(text.pk))
    forged = forge_after_head(text)

    with pytest.raises(CommandError) as failed:
        call_command("verify_audit")

    assert f"first bad event: #{forged.pk}" in str(failed.value)
    assert names_forgery(str(failed.value), forged)


@pytest.mark.postgres
def test_a_normal_run_of_actions_seals_and_verifications_reports_nothing(cast, worker):
    texts = [cast.text_in("returned") for _ in range(3)]
    for text in texts:
        act(cast.org_drafter, text, "submit")
    for text in texts:
        wait_until_sealed(worker, audit.text_stream(text.pk))
    moment = timezone.now()

    wait_for(
        lambda: a_verification_after(moment),
        timeout=30,
        message=lambda: worker.log_tail(40),
    )

    assert not AuditVerification.objects.filter(ok=False).exists()
    lines = worker.checkpoint_file.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line).get("unannounced") for line in lines] == [None] * len(lines)
    call_command("verify_audit")
