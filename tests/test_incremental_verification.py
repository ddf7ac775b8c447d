"""Incremental verification (issue 11): the audit page and GET /api/v1/audit/verify/ answer
from the latest kept verification; a scheduled task verifies only what was appended since
(per stream, from the last verified event to the head, and the checkpoints since); a full
verification stays available as `verify_audit` and as an auditor's throttled request
(POST /api/v1/audit/verify/)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import act
from tests.tampering import CHECKPOINTS, EVENTS, tamper
from workflow import audit, tasks
from workflow.models import (
    AuditChain,
    AuditEvent,
    AuditVerification,
    AuditVerifyRequest,
)

VERIFY = "/api/v1/audit/verify/"


@pytest.fixture
def seal(django_capture_on_commit_callbacks):
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return audit.seal()

    return run


def stream_of(text) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream=audit.text_stream(text.pk)).order_by("seq"))


@pytest.fixture
def verified(cast):
    """Three texts with some history, verified in full once."""
    texts = [cast.text_in("returned") for _ in range(3)]
    first = audit.verify_and_keep()
    assert first.ok, first.detail
    return texts


@pytest.fixture
def hashes_computed(monkeypatch):
    """Every event whose hash a verification recomputes: the rows it read."""
    read: list[int] = []
    original = audit.compute_hash

    def counting(event):
        read.append(event.pk)
        return original(event)

    monkeypatch.setattr(audit, "compute_hash", counting)
    return read


# --- The scheduled task ----------------------------------------------------------------------


def test_the_first_scheduled_verification_is_a_full_one(cast):
    cast.text_in("returned")

    tasks.verify_audit_log()

    [verification] = AuditVerification.objects.all()
    assert verification.kind == "full"
    assert verification.ok is True
    assert verification.checked == AuditEvent.objects.count()


def test_later_scheduled_verifications_are_incremental_and_count_every_event(cast, verified):
    act(cast.org_drafter, verified[0], "submit")

    tasks.verify_audit_log()

    latest = audit.latest_verification()
    assert latest.kind == "incremental"
    assert latest.ok is True, latest.detail
    assert latest.checked == AuditEvent.objects.count()


def test_only_the_newest_verification_keeps_its_state(cast, verified):
    act(cast.org_drafter, verified[0], "submit")
    audit.verify_new_and_keep()
    act(cast.org_drafter, verified[1], "submit")
    newest = audit.verify_new_and_keep()

    states = dict(AuditVerification.objects.values_list("pk", "state"))

    assert [pk for pk, state in states.items() if state] == [newest.pk]


def test_an_incremental_verification_reads_only_the_new_events(cast, verified, hashes_computed):
    act(cast.org_drafter, verified[0], "submit")
    new = stream_of(verified[0])[-1]
    anchor = stream_of(verified[0])[-2]
    hashes_computed.clear()  # those of the events just written

    result = audit.verify_since(audit.latest_verification(with_state=True))

    assert result.ok is True, result.detail
    # The last verified event of the changed stream (to see it is still there) and the new one.
    assert sorted(hashes_computed) == sorted([anchor.pk, new.pk])


def test_an_incremental_verification_costs_the_same_queries_whatever_the_log_holds(cast, verified):
    act(cast.org_drafter, verified[0], "submit")
    last = audit.latest_verification(with_state=True)
    with CaptureQueriesContext(connection) as few:
        audit.verify_since(last)
    for _ in range(5):
        cast.text_in("returned")
    audit.verify_and_keep()
    act(cast.org_drafter, verified[1], "submit")
    last = audit.latest_verification(with_state=True)

    with CaptureQueriesContext(connection) as many:
        audit.verify_since(last)

    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_an_incremental_verification_catches_an_altered_new_event(cast, verified):
    act(cast.org_drafter, verified[0], "submit")
    new = stream_of(verified[0])[-1]
    tamper(f"UPDATE {EVENTS} SET comment = %s WHERE id = %s", ["伪造", new.pk])

    kept = audit.verify_new_and_keep()

    assert kept.kind == "incremental"
    assert kept.ok is False
    assert kept.first_bad == new.pk


def test_an_incremental_verification_names_a_new_event_whose_algorithm_was_rewritten(
    cast, verified
):
    act(cast.org_drafter, verified[0], "submit")
    new = stream_of(verified[0])[-1]
    tamper(f"UPDATE {EVENTS} SET digest = %s WHERE id = %s", ["md5", new.pk])

    kept = audit.verify_new_and_keep()

    assert kept.ok is False
    assert kept.first_bad == new.pk


def test_an_incremental_verification_catches_a_deleted_verified_tail(cast, verified):
    events = stream_of(verified[0])
    kept = events[-2]
    tamper(f"DELETE FROM {EVENTS} WHERE id = %s", [events[-1].pk])
    AuditChain.objects.filter(stream=kept.stream).update(length=kept.seq, head_hash=kept.hash)

    result = audit.verify_new_and_keep()

    assert result.ok is False
    assert kept.stream in result.detail


def test_an_incremental_verification_reports_a_verified_stream_whose_head_row_is_gone(
    cast, verified
):
    stream = audit.text_stream(verified[0].pk)
    tamper(f"DELETE FROM {EVENTS} WHERE stream = %s", [stream])
    AuditChain.objects.filter(stream=stream).delete()

    result = audit.verify_new_and_keep()

    assert result.ok is False
    assert f"{stream}: 链头记录已消失" in result.detail


def rows_read_by(work) -> int:
    """The rows every statement of `work` returned (PostgreSQL reports them for a SELECT)."""
    rows = [0]

    def count(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith(("SELECT", "(SELECT", "WITH")):
            rows[0] += max(context["cursor"].rowcount, 0)
        return result

    with connection.execute_wrapper(count):
        work()
    return rows[0]


@pytest.mark.postgres
def test_answering_the_api_reads_the_same_rows_whatever_the_number_of_streams(cast, api):
    """A province's log has hundreds of thousands of streams: the answer, caught up on one
    new event, must read what moved, not a row per stream."""
    texts = [cast.text_in("returned") for _ in range(2)]
    audit.verify_and_keep()
    act(cast.org_drafter, texts[0], "submit")
    few = rows_read_by(audit.current_verification)
    more = [cast.text_in("returned") for _ in range(10)]
    audit.verify_and_keep()
    act(cast.org_drafter, more[0], "submit")

    many = rows_read_by(audit.current_verification)

    assert audit.latest_verification().kind == "incremental"
    assert many == few


def test_a_verification_kept_before_verified_heads_had_their_table_is_followed_by_a_full_one(
    cast, verified
):
    """What a verification keeps changed with migration 0020: one kept before is not resumed."""
    kept = audit.latest_verification(with_state=True)
    AuditVerification.objects.filter(pk=kept.pk).update(
        state={"streams": {}, "sealed": {}, "checkpoint": None, "file_offset": 0}
    )
    act(cast.org_drafter, verified[0], "submit")

    result = audit.verify_new_and_keep()

    assert result.kind == "full"
    assert result.ok is True, result.detail
    assert audit.verify_new_and_keep().kind == "incremental"


def test_an_incremental_verification_checks_the_new_checkpoints(cast, verified, seal):
    act(cast.org_drafter, verified[0], "submit")
    seal()
    tamper(f"UPDATE {CHECKPOINTS} SET event_count = event_count + 1 WHERE seq = 1")

    result = audit.verify_new_and_keep()

    assert result.ok is False
    assert "检查点 1" in result.detail


def test_a_failure_stands_until_a_full_verification_passes(cast, verified):
    act(cast.org_drafter, verified[0], "submit")
    new = stream_of(verified[0])[-1]
    tamper(f"UPDATE {EVENTS} SET comment = %s WHERE id = %s", ["伪造", new.pk])
    failed = audit.verify_new_and_keep()
    act(cast.org_drafter, verified[1], "submit")

    again = audit.verify_new_and_keep()

    assert again.pk == failed.pk
    assert again.ok is False


def test_an_old_event_altered_after_it_was_verified_is_found_by_the_full_verification(
    cast, verified
):
    """The price of not re-reading: the incremental run does not see it; a full one does."""
    old = stream_of(verified[0])[0]
    tamper(f"UPDATE {EVENTS} SET comment = %s WHERE id = %s", ["伪造", old.pk])
    act(cast.org_drafter, verified[1], "submit")

    assert audit.verify_new_and_keep().ok is True
    full = audit.verify_and_keep()
    assert full.ok is False
    assert full.first_bad == old.pk


# --- GET /api/v1/audit/verify/ ---------------------------------------------------------------


def test_the_api_answers_from_the_latest_verification_and_says_when(cast, api, verified):
    response = api(cast.auditor).get(VERIFY)

    body = response.json()
    latest = audit.latest_verification()
    assert response.status_code == 200
    assert {k: body[k] for k in ("ok", "checked", "first_bad")} == {
        "ok": True,
        "checked": AuditEvent.objects.count(),
        "first_bad": None,
    }
    assert body["verified_at"] == latest.at.isoformat()
    assert body["unverified"] == 0
    assert AuditVerification.objects.count() == 1  # nothing new: nothing recomputed


def test_the_api_catches_up_on_a_few_new_events_in_the_request(cast, api, verified):
    act(cast.org_drafter, verified[0], "submit")

    body = api(cast.auditor).get(VERIFY).json()

    assert body["kind"] == "incremental"
    assert body["checked"] == AuditEvent.objects.count()


def test_the_api_sees_a_verified_tail_deleted_and_its_head_rewound(cast, api, verified):
    events = stream_of(verified[0])
    kept = events[-2]
    tamper(f"DELETE FROM {EVENTS} WHERE id = %s", [events[-1].pk])
    AuditChain.objects.filter(stream=kept.stream).update(length=kept.seq, head_hash=kept.hash)

    body = api(cast.auditor).get(VERIFY).json()

    assert body["ok"] is False
    assert kept.stream in body["detail"]


def test_the_api_leaves_many_new_events_to_the_scheduled_task(cast, api, verified, settings):
    settings.AUDIT_VERIFY_INLINE_EVENTS = 1
    act(cast.org_drafter, verified[0], "submit")
    act(cast.org_drafter, verified[1], "submit")

    body = api(cast.auditor).get(VERIFY).json()

    assert body["kind"] == "full"  # still the first verification
    assert body["unverified"] == 2
    assert AuditVerification.objects.count() == 1


def test_the_api_on_a_long_log_never_verified_answers_202(cast, api, settings):
    settings.AUDIT_VERIFY_INLINE_EVENTS = 1
    cast.text_in("returned")

    response = api(cast.auditor).get(VERIFY)

    assert response.status_code == 202
    assert response.json()["ok"] is None
    assert AuditVerification.objects.count() == 0


# --- POST /api/v1/audit/verify/: a full verification on request ------------------------------


def test_an_auditor_may_request_a_full_verification(
    cast, api, verified, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(cast.auditor).post(VERIFY)

    assert response.status_code == 202
    request = AuditVerifyRequest.objects.get(pk=response.json()["request"])
    full = AuditVerification.objects.get(request=request)
    assert full.kind == "full"
    assert full.ok is True
    assert full.checked == AuditEvent.objects.count()


def test_the_request_is_audited_on_the_auditors_stream(cast, api):
    response = api(cast.auditor).post(VERIFY)

    event = AuditEvent.objects.filter(action="audit_verify_requested").get()
    assert event.stream == audit.user_stream(cast.auditor.pk)
    assert event.detail == {"request": response.json()["request"]}


def test_a_second_request_within_the_interval_is_throttled(cast, api, settings):
    settings.AUDIT_FULL_VERIFY_MIN_SECONDS = 600
    api(cast.auditor).post(VERIFY)

    response = api(cast.auditor).post(VERIFY)

    assert response.status_code == 429
    assert "秒后再试" in response.json()["detail"]
    assert AuditVerifyRequest.objects.count() == 1


def test_a_request_after_the_interval_is_accepted(cast, api, settings):
    settings.AUDIT_FULL_VERIFY_MIN_SECONDS = 600
    api(cast.auditor).post(VERIFY)
    first = AuditVerifyRequest.objects.get()
    AuditVerifyRequest.objects.filter(pk=first.pk).update(at=first.at - timedelta(seconds=601))

    response = api(cast.auditor).post(VERIFY)

    assert response.status_code == 202
    assert AuditVerifyRequest.objects.count() == 2


def test_only_auditors_may_request_a_full_verification(cast, api):
    response = api(cast.org_reviewer).post(VERIFY)

    assert response.status_code == 403
    assert AuditVerifyRequest.objects.count() == 0


def test_a_request_whose_job_was_lost_is_run_by_the_scheduled_task(cast, api, verified):
    api(cast.auditor).post(VERIFY)  # its on-commit job never runs in this test
    request = AuditVerifyRequest.objects.get()

    tasks.verify_audit_log()

    assert AuditVerification.objects.get(request=request).kind == "full"


def test_a_redelivered_full_job_verifies_once(cast, api):
    api(cast.auditor).post(VERIFY)
    request = AuditVerifyRequest.objects.get()

    tasks.verify_audit_log_full(request.pk)
    tasks.verify_audit_log_full(request.pk)

    assert AuditVerification.objects.filter(request=request).count() == 1
