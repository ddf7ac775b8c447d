"""Two last approvals of a 会签 stage at once complete it exactly once (DESIGN.md, "Routing as
data"). Real threads with connections of their own, on PostgreSQL with committed data."""

import threading
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from submissions.models import ProjectText
from tests.factories import DepartmentFactory, act, make_text, make_user
from tests.routing import load
from workflow import audit
from workflow.models import AuditEvent, Decision

pytestmark = pytest.mark.postgres


@pytest.fixture
def chain(transactional_db: None) -> dict[str, Any]:
    """The county's document, three county reviewers, and a text waiting at county review."""
    load("county.yaml")
    org = DepartmentFactory(code="org", name="组织部")
    people = {
        "drafter": make_user("org_drafter", "drafter", org),
        "reviewer": make_user("org_reviewer", "dept_reviewer", org),
        "finance": make_user("finance", "finance_reviewer"),
        "performance": make_user("performance", "performance_reviewer"),
        "approver": make_user("approver", "approver"),
        **{f"county_{n}": make_user(f"county_{n}", "county_reviewer") for n in "abc"},
    }
    text = make_text(people["drafter"], org, amount="1751800.00")
    for action, who in [
        ("submit", "drafter"),
        ("dept_approve", "reviewer"),
        ("finance_approve", "finance"),
        ("finance_approve", "performance"),
    ]:
        act(people[who], text, action)
    people["text"] = ProjectText.objects.get(pk=text.pk)
    return people


def approve_at_once(users: list[Any], text: ProjectText) -> list[Any]:
    barrier = threading.Barrier(len(users))
    results: list[Any] = [None] * len(users)

    def work(index: int, user: Any) -> None:
        try:
            client = APIClient()
            client.raise_request_exception = False
            client.force_authenticate(user)
            barrier.wait(timeout=30)
            response = client.post(
                f"/api/v1/texts/{text.pk}/actions/county_approve/",
                {"version": text.version},
                format="json",
            )
            results[index] = response.status_code
        except Exception as error:  # reported in the assertion
            results[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, u), daemon=True) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def test_the_two_last_approvals_at_once_both_count(chain):
    results = approve_at_once([chain["county_a"], chain["county_b"]], chain["text"])

    assert results == [200, 200]
    assert Decision.objects.filter(text=chain["text"], action="county_approve").count() == 2


def test_the_two_last_approvals_at_once_complete_the_stage_exactly_once(chain):
    approve_at_once([chain["county_a"], chain["county_b"]], chain["text"])

    moves = AuditEvent.objects.filter(
        text=chain["text"], action="county_approve", from_state="county_review", outcome="ok"
    ).exclude(to_state="county_review")
    assert moves.count() == 1
    assert ProjectText.objects.get(pk=chain["text"].pk).state == "approval"


def test_three_approvals_at_once_for_a_quorum_of_two_leave_one_refused(chain):
    results = approve_at_once(
        [chain["county_a"], chain["county_b"], chain["county_c"]], chain["text"]
    )

    assert sorted(results) == [200, 200, 409]
    assert Decision.objects.filter(text=chain["text"], action="county_approve").count() == 2


def test_the_chain_verifies_after_approvals_at_once(chain):
    approve_at_once([chain["county_a"], chain["county_b"], chain["county_c"]], chain["text"])

    assert audit.verify().ok is True
