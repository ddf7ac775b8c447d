"""Closer seals with a real Celery worker on PostgreSQL (issue 11, Must show): each change is
sealed within seconds, in the database and in the checkpoint file outside it; then deleting
the newest event of a stream and fixing its head, or putting a forged event that chains
correctly in its place, is caught by the worker's own scheduled verification within a
minute. Nothing waits a fixed time: every wait polls. Also on PostgreSQL with real threads:
seals asked for at once (two beats by mistake, the seals after changes) write one
checkpoint, and full verifications asked for at once are accepted once."""

# ruff: noqa: F811 - the fixtures imported from tests.live are redefined as test parameters

import json
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.live import celery_worker, live_broker, redis_server, wait_for  # noqa: F401
from tests.tampering import EVENTS, tamper
from workflow import audit, services
from workflow.exceptions import TooSoon
from workflow.models import (
    AuditChain,
    AuditCheckpoint,
    AuditEvent,
    AuditVerification,
    AuditVerifyRequest,
)

pytestmark = pytest.mark.postgres

CAUGHT_WITHIN = 60


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    # Beat's own seal is an hour away: only the closer seals can seal in time. The worker
    # verifies (incrementally) every two seconds.
    return {"AUDIT_SEAL_DELAY_SECONDS": "1", "VERIFY_SECONDS": "2", "CHECKPOINT_SECONDS": "3600"}


@pytest.fixture
def worker(celery_worker, settings, monkeypatch):
    """The worker, with this process asking it for seals as the web processes would, and
    reading the checkpoint file it writes."""
    settings.AUDIT_SEAL_DELAY_SECONDS = 1
    settings.AUDIT_CHECKPOINT_FILE = celery_worker.checkpoint_file
    monkeypatch.setattr(audit, "_seal_sent_at", 0.0)
    return celery_worker


def sealed_in_file(worker, stream: str) -> list | None:
    """The newest head of `stream` the checkpoint file holds."""
    if not worker.checkpoint_file.exists():
        return None
    head = None
    for line in worker.checkpoint_file.read_text(encoding="utf-8").splitlines():
        head = json.loads(line).get("heads", {}).get(stream, head)
    return head


def head_of(stream: str) -> list:
    chain = AuditChain.objects.get(stream=stream)
    return [chain.length, chain.head_hash]


def wait_until_sealed(worker, stream: str) -> float:
    started = time.monotonic()
    head = head_of(stream)
    wait_for(
        lambda: sealed_in_file(worker, stream) == head,
        timeout=30,
        message=lambda: (
            f"file holds {sealed_in_file(worker, stream)}, head {head}\n" + worker.log_tail(40)
        ),
    )
    return time.monotonic() - started


def newest_events(text, n: int = 2) -> list[AuditEvent]:
    events = AuditEvent.objects.filter(stream=audit.text_stream(text.pk)).order_by("-seq")
    return list(events[:n])[::-1]


def a_failure_after(moment) -> AuditVerification | None:
    return AuditVerification.objects.filter(ok=False, at__gt=moment).order_by("-at").first()


def wait_until_caught(worker, moment) -> AuditVerification:
    return wait_for(
        lambda: a_failure_after(moment),
        timeout=CAUGHT_WITHIN,
        message=lambda: f"latest: {audit.latest_verification()}\n" + worker.log_tail(40),
    )


def no_failure_so_far() -> bool:
    return not AuditVerification.objects.filter(ok=False).exists()


def test_each_change_is_sealed_within_seconds(cast, worker):
    text = cast.text_in("returned")
    stream = audit.text_stream(text.pk)

    took = wait_until_sealed(worker, stream)

    assert took < 15
    assert audit.verify().unsealed_summary() == ""


def test_a_deleted_newest_event_with_its_head_fixed_is_caught_within_a_minute(cast, worker):
    text = cast.text_in("returned")
    stream = audit.text_stream(text.pk)
    wait_until_sealed(worker, stream)
    kept, newest = newest_events(text)
    assert no_failure_so_far()

    moment = timezone.now()
    with transaction.atomic():
        tamper(f"DELETE FROM {EVENTS} WHERE id = %s", [newest.pk])
        AuditChain.objects.filter(stream=stream).update(length=kept.seq, head_hash=kept.hash)

    caught = wait_until_caught(worker, moment)
    assert stream in caught.detail
    assert audit.verify().ok is False


def test_a_forged_event_chained_in_place_of_the_newest_is_caught_within_a_minute(cast, worker):
    text = cast.text_in("returned")
    stream = audit.text_stream(text.pk)
    wait_until_sealed(worker, stream)
    _kept, newest = newest_events(text)
    assert no_failure_so_far()

    moment = timezone.now()
    with transaction.atomic():
        tamper(f"DELETE FROM {EVENTS} WHERE id = %s", [newest.pk])
        forged = AuditEvent(
            **{
                f.attname: getattr(newest, f.attname)
                for f in AuditEvent._meta.concrete_fields
                if f.attname != "id"
            }
        )
        forged.comment = "同意"  # the return's reason, rewritten
        forged.hash = audit.compute_hash(forged)
        forged.save(force_insert=True)
        AuditChain.objects.filter(stream=stream).update(head_hash=forged.hash)

    caught = wait_until_caught(worker, moment)
    assert caught.first_bad == forged.pk, caught.detail
    assert audit.verify().first_bad == forged.pk


def run_together(job, count: int) -> list:
    """Run `job` in `count` threads, each with its own connection, released together."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except Exception as error:  # reported by the test, not lost in the thread
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_seals_asked_for_at_once_write_one_checkpoint(cast, transactional_db, settings, tmp_path):
    """Two beats by mistake and the seals after changes may all fire at once: one seals."""
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "checkpoints.log"
    cast.text_in("returned")

    results = run_together(audit.seal, 6)

    sealed = [r for r in results if isinstance(r, AuditCheckpoint)]
    assert [r for r in results if isinstance(r, Exception)] == []
    assert len(sealed) == 1
    assert AuditCheckpoint.objects.count() == 1
    assert audit.verify().ok is True


def test_full_verifications_requested_at_once_are_accepted_once(cast, transactional_db):
    def ask():
        try:
            return services.request_full_verification(actor=cast.auditor).pk
        except TooSoon:
            return "throttled"

    results = run_together(ask, 4)

    assert sorted(map(str, results)).count("throttled") == 3
    assert AuditVerifyRequest.objects.count() == 1
