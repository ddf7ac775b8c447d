"""Two people acting on one text at once: exactly one wins (DESIGN.md, "The state machine").
Actions on different texts do not wait for each other.

Real threads, each with its own database connection, released together by a barrier, so
these run on PostgreSQL with committed data (`transactional_db`, not `db`)."""

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from submissions.models import ProjectText
from tests.factories import DepartmentFactory, act, make_text, make_user
from workflow import audit
from workflow.models import AttemptTally, AuditEvent
from workflow.states import Role

pytestmark = pytest.mark.postgres

THREADS = 20


@pytest.fixture
def people(transactional_db: None) -> dict[str, Any]:
    org = DepartmentFactory(code="org", name="中共新平彝族傣族自治县委员会组织部")
    return {
        "org": org,
        "drafter": make_user("org_drafter", Role.DRAFTER, org),
        "reviewer": make_user("org_reviewer", Role.DEPT_REVIEWER, org),
        # The next stage must be reachable for dept_approve to be taken at all.
        "finance": make_user("finance", Role.FINANCE_REVIEWER),
    }


def submitted_text(people: dict[str, Any], **overrides: Any) -> ProjectText:
    text = make_text(people["drafter"], people["org"], **overrides)
    act(people["drafter"], text, "submit")
    return ProjectText.objects.get(pk=text.pk)


def run_at_once(jobs: list[tuple[Any, int, int]], wait: float = 120) -> list[int | str]:
    """POST dept_approve for each (user, text id, version) from its own thread, all released
    together; return each thread's status code (or the exception it died of)."""
    barrier = threading.Barrier(len(jobs))
    results: list[int | str] = [0] * len(jobs)

    def work(index: int, user: Any, text_id: int, version: int) -> None:
        try:
            client = APIClient()
            client.raise_request_exception = False
            client.force_authenticate(user)
            barrier.wait(timeout=30)
            response = client.post(
                f"/api/v1/texts/{text_id}/actions/dept_approve/",
                {"version": version},
                format="json",
            )
            results[index] = response.status_code
        except Exception as error:  # reported in the assertion, not swallowed
            results[index] = repr(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(i, *job), daemon=True) for i, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=wait)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def test_twenty_simultaneous_approvals_of_one_text_let_exactly_one_win(people):
    text = submitted_text(people)

    results = run_at_once([(people["reviewer"], text.pk, text.version)] * THREADS)

    assert Counter(results) == Counter({200: 1, 409: THREADS - 1}), results


def test_a_text_approved_by_twenty_at_once_moves_exactly_once(people):
    text = submitted_text(people)

    run_at_once([(people["reviewer"], text.pk, text.version)] * THREADS)

    after = ProjectText.objects.get(pk=text.pk)
    assert after.state == "finance_review"
    assert after.version == text.version + 1
    assert after.decisions.count() == 1


def test_twenty_simultaneous_approvals_leave_one_ok_event_and_a_verifying_log(people, settings):
    text = submitted_text(people)

    run_at_once([(people["reviewer"], text.pk, text.version)] * THREADS)

    events = AuditEvent.objects.filter(text_id=text.pk, action="dept_approve")
    assert events.filter(outcome="ok").count() == 1
    # Every refusal is accounted for: recorded in full within the reviewer's budget,
    # counted for its summary beyond it.
    refused = events.filter(outcome="refused").count()
    counted = sum(
        AttemptTally.objects.filter(stream=audit.text_stream(text.pk)).values_list(
            "suppressed", flat=True
        )
    )
    assert refused == min(THREADS - 1, settings.AUDIT_REFUSALS_PER_WINDOW)
    assert refused + counted == THREADS - 1
    seqs = list(
        AuditEvent.objects.filter(stream=audit.text_stream(text.pk))
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))
    result = audit.verify()
    assert result.ok is True, result.detail


def test_twenty_approvals_of_twenty_different_texts_at_once_all_succeed(people):
    texts = [submitted_text(people, title=f"项目{i}") for i in range(THREADS)]

    results = run_at_once([(people["reviewer"], t.pk, t.version) for t in texts])

    assert results == [200] * THREADS
    states = set(
        ProjectText.objects.filter(pk__in=[t.pk for t in texts]).values_list("state", flat=True)
    )
    assert states == {"finance_review"}
    assert AuditEvent.objects.filter(action="dept_approve", outcome="ok").count() == THREADS
    result = audit.verify()
    assert result.ok is True, result.detail


def test_approvals_of_other_texts_do_not_wait_for_an_action_in_progress_on_one(people):
    """While one text's action holds its locks (its row, its chain's head) and has appended
    its event uncommitted, nineteen other texts are approved without waiting for it."""
    busy, *others = [submitted_text(people, title=f"项目{i}") for i in range(THREADS)]

    with transaction.atomic():
        ProjectText.objects.select_for_update().get(pk=busy.pk)
        audit.record(stream=audit.text_stream(busy.pk), actor=people["reviewer"], action="edit")
        results = run_at_once([(people["reviewer"], t.pk, t.version) for t in others], wait=20)
        transaction.set_rollback(True)

    assert results == [200] * (THREADS - 1)


def test_two_drafts_claiming_one_project_code_at_once_one_is_told_it_is_taken(people):
    barrier = threading.Barrier(THREADS)
    results: list[int | str] = [0] * THREADS

    def work(index: int) -> None:
        try:
            client = APIClient()
            client.raise_request_exception = False
            client.force_authenticate(people["drafter"])
            barrier.wait(timeout=30)
            response = client.post(
                "/api/v1/texts/",
                {
                    "department": "org",
                    "title": f"项目{index}",
                    "fiscal_year": 2025,
                    "project_code": "530427-2025-001",
                },
                format="json",
            )
            results[index] = response.status_code
        except Exception as error:  # reported in the assertion below
            results[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert Counter(results) == {201: 1, 400: THREADS - 1}
    assert ProjectText.objects.filter(project_code="530427-2025-001").count() == 1
