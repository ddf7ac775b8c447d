"""Refused attempts are recorded within a budget (issue 7, point 5): each source may add
AUDIT_REFUSALS_PER_WINDOW events per stream and window; the rest are counted and written as
one summary event once the window has passed. A refusal on a text nobody may show the user
costs the same statements whether the text exists or not (point 9)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import act
from workflow import audit, services
from workflow.exceptions import NotPermitted, NotVisible
from workflow.models import AttemptTally, AuditChain, AuditEvent
from workflow.services.attempts import SUMMARY_ACTION

LIMIT = 3


@pytest.fixture(autouse=True)
def small_budget(settings):
    settings.AUDIT_REFUSALS_PER_WINDOW = LIMIT
    settings.AUDIT_REFUSAL_WINDOW_SECONDS = 600


def refuse(user, text, times: int = 1, comment: str = "") -> None:
    for _ in range(times):
        with pytest.raises((NotPermitted, NotVisible)):
            act(user, text, "dept_approve", comment=comment)


def refused_on(stream: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream=stream, outcome="refused").order_by("seq"))


def end_the_window() -> None:
    """As if the window had passed: tallies are plain rows, their start can be moved."""
    AttemptTally.objects.update(
        window_start=AttemptTally.objects.first().window_start - timedelta(seconds=601)
    )


def test_a_source_records_its_budget_of_refusals_in_full_and_no_more(cast):
    text = cast.text_in("dept_review")

    refuse(cast.org_drafter, text, times=LIMIT + 20)

    events = refused_on(audit.text_stream(text.pk))
    assert len(events) == LIMIT
    assert {e.actor_name for e in events} == {"org_drafter"}
    assert AttemptTally.objects.get().suppressed == 20


def test_one_users_flood_leaves_another_users_budget_on_the_same_text(cast):
    text = cast.text_in("dept_review")
    refuse(cast.org_drafter, text, times=LIMIT + 5)

    refuse(cast.auditor, text)

    events = refused_on(audit.text_stream(text.pk))
    assert [e.actor_name for e in events][-1] == "auditor"


def test_the_next_attempt_after_the_window_writes_the_summary_then_records_again(cast):
    text = cast.text_in("dept_review")
    refuse(cast.org_drafter, text, times=LIMIT + 7)
    end_the_window()

    refuse(cast.org_drafter, text)

    events = refused_on(audit.text_stream(text.pk))
    summary, again = events[-2:]
    assert summary.action == SUMMARY_ACTION
    assert summary.actor_name == "org_drafter"
    assert summary.text_id == text.pk
    assert summary.detail["count"] == 7
    assert summary.detail["actions"] == {"dept_approve": 7}
    assert summary.detail["source"] == f"user:{cast.org_drafter.pk}"
    assert (again.action, again.outcome) == ("dept_approve", "refused")


def test_the_sweep_summarises_ended_windows_and_forgets_quiet_ones(cast):
    text = cast.text_in("dept_review")
    refuse(cast.org_drafter, text, times=LIMIT + 2)
    refuse(cast.auditor, text)  # within budget: nothing to summarise
    end_the_window()

    written = services.summarise_ended_windows()

    assert written == 1
    [summary] = AuditEvent.objects.filter(action=SUMMARY_ACTION)
    assert summary.detail["count"] == 2
    assert not AttemptTally.objects.exists()


def test_the_sweep_leaves_a_window_that_is_still_open(cast):
    text = cast.text_in("dept_review")
    refuse(cast.org_drafter, text, times=LIMIT + 2)

    assert services.summarise_ended_windows() == 0
    assert AttemptTally.objects.get().suppressed == 2


def test_the_comment_of_a_refused_attempt_is_kept_short_with_its_length(cast):
    text = cast.text_in("dept_review")

    refuse(cast.org_drafter, text, comment="长" * 5000)

    [event] = refused_on(audit.text_stream(text.pk))
    assert event.comment == "长" * 200
    assert event.detail["comment_chars"] == 5000


def test_someone_who_cannot_see_a_text_adds_nothing_to_its_history(cast, api):
    text = cast.text_in("dept_review")
    before = AuditEvent.objects.filter(text=text).count()

    for _ in range(30):
        response = api(cast.edu_reviewer).post(
            f"/api/v1/texts/{text.pk}/actions/dept_approve/",
            {"version": text.version, "comment": "x" * 5000},
            format="json",
        )
        assert response.status_code == 404

    assert AuditEvent.objects.filter(text=text).count() == before
    own = refused_on(audit.user_stream(cast.edu_reviewer.pk))
    assert len(own) == LIMIT
    assert all(e.detail["requested_text"] == str(text.pk) for e in own)


def test_the_log_verifies_after_refusals_and_their_summary(cast):
    text = cast.text_in("dept_review")
    refuse(cast.org_drafter, text, times=LIMIT + 4)
    refuse(cast.edu_reviewer, text, times=LIMIT + 4)
    end_the_window()
    services.summarise_ended_windows()

    result = audit.verify()

    assert result.ok, result.detail


# --- Existence does not show in what a refusal costs ---------------------------------------


def _statements(api, user, text_id: int) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = api(user).post(
            f"/api/v1/texts/{text_id}/actions/dept_approve/", {"version": 2}, format="json"
        )
    assert response.status_code == 404
    # The same statements, whatever ids, times and hashes they carry.
    return [re.sub(r"'[^']*'|\d+", "?", q["sql"]) for q in queries.captured_queries]


def test_a_refusal_costs_the_same_statements_for_an_invisible_text_and_a_missing_id(cast, api):
    invisible = cast.text_in("dept_review")
    missing = invisible.pk + 1000
    _statements(api, cast.edu_reviewer, missing)  # the user's stream and tally exist now

    assert _statements(api, cast.edu_reviewer, invisible.pk) == _statements(
        api, cast.edu_reviewer, missing
    )


def test_a_refusal_answers_the_same_for_an_invisible_text_and_a_missing_id(cast, api):
    invisible = cast.text_in("dept_review")
    client = api(cast.edu_reviewer)

    answers = [
        client.post(f"/api/v1/texts/{pk}/actions/dept_approve/", {"version": 2}, format="json")
        for pk in (invisible.pk, invisible.pk + 1000)
    ]

    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json() == answers[1].json()


# --- A lost chain head -----------------------------------------------------------------------


def test_an_action_after_a_texts_chain_head_was_deleted_succeeds_and_says_so(cast):
    text = cast.text_in("dept_review")
    stream = audit.text_stream(text.pk)
    last = AuditEvent.objects.filter(stream=stream).order_by("-seq").first()
    AuditChain.objects.filter(stream=stream).delete()

    act(cast.org_reviewer, text, "dept_approve")

    restored, approved = AuditEvent.objects.filter(stream=stream).order_by("seq")[last.seq :]
    assert restored.action == audit.HEAD_RESTORED
    assert restored.detail == {"length": last.seq, "head_hash": last.hash}
    assert restored.text_id == text.pk
    assert approved.action == "dept_approve"
    assert AuditChain.objects.get(stream=stream).length == approved.seq
    assert audit.verify().ok
