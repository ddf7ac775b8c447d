"""Every list costs as many statements with 2,000 texts as with 10, for every role (issue 12).

The texts are not all drafts: copies of texts the service brought to every state (waiting
at each stage, approved, returned), so that each role's lists and inbox hold some of them
at both sizes, with their decisions, revisions and events."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from submissions.models import ProjectText
from tests.scale import copy_texts
from tests.test_query_counts import LARGE, SMALL

STATES = ("draft", "dept_review", "finance_review", "approval", "returned")

# Every list a role has, as pages and as API endpoints.
TEXT_LISTS = (
    "/",
    "/texts/",
    "/texts/?state=finance_review&sort=-amount",
    "/inbox/",
    "/api/v1/texts/",
    "/api/v1/texts/?state=approval&q=项目",
    "/api/v1/texts/inbox/",
)
AUDIT_LISTS = (
    "/audit/",
    "/audit/?action=submit",
    "/api/v1/audit/events/",
    "/api/v1/audit/events/?action=submit",
)
ROLES = {
    "org_drafter": TEXT_LISTS,
    "org_reviewer": TEXT_LISTS,
    "finance": TEXT_LISTS,
    "approver": TEXT_LISTS,
    "auditor": TEXT_LISTS + AUDIT_LISTS,
}


@pytest.fixture
def templates(cast) -> list[ProjectText]:
    """One text in each state, and one approved, brought there through the service."""
    texts = [cast.text_in(state, title=f"{state}项目") for state in STATES]
    approved = cast.text_in("approval", title="已批项目")
    from tests.factories import act

    act(cast.approver, approved, "approve", comment="同意")
    return [*texts, ProjectText.objects.get(pk=approved.pk)]


def grow_to(templates: list[ProjectText], total: int) -> None:
    """Copies of the templates, evenly, until there are `total` texts."""
    missing = total - ProjectText.objects.count()
    each, extra = divmod(missing, len(templates))
    for index, template in enumerate(templates):
        copy_texts([template], each + (1 if index < extra else 0))
    assert ProjectText.objects.count() == total


def costs(user, paths: tuple[str, ...]) -> dict[str, int]:
    client = Client()
    client.force_login(user)

    def count(request: Callable[[], Any], path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = request()
        assert response.status_code == 200, (path, response.status_code)
        return len(captured.captured_queries)

    return {path: count(lambda p=path: client.get(p), path) for path in paths}


@pytest.mark.parametrize("who", sorted(ROLES))
def test_every_list_costs_the_same_statements_with_2000_texts_as_with_10(cast, templates, who):
    user = getattr(cast, who)
    grow_to(templates, SMALL)
    costs(user, ROLES[who])  # caches (content types, catalog, ...) warmed once

    small = costs(user, ROLES[who])
    grow_to(templates, LARGE)
    large = costs(user, ROLES[who])

    assert large == small


@pytest.mark.parametrize("who", ["finance", "approver"])
def test_each_role_sees_texts_waiting_for_it_at_both_sizes(cast, templates, who):
    """The test above must not pass on empty lists: the copies wait for every reviewer."""
    client = Client()
    client.force_login(getattr(cast, who))
    grow_to(templates, SMALL)
    small = client.get("/api/v1/texts/inbox/").json()["count"]
    grow_to(templates, LARGE)
    large = client.get("/api/v1/texts/inbox/").json()["count"]

    assert 0 < small < large
