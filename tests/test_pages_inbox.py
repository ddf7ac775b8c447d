"""The inbox page costs the same number of queries for 500 waiting texts as for 5."""

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from submissions.models import ProjectText
from workflow.models import StageVisit


def add_waiting(cast, count: int) -> None:
    """Texts of org waiting in dept_review, each with its open stage visit."""
    now = timezone.now()
    texts = ProjectText.objects.bulk_create(
        [
            ProjectText(
                department=cast.org,
                created_by=cast.org_drafter,
                title=f"待审项目{i}",
                fiscal_year=2025,
                amount="1751800.00",
                state="dept_review",
                revision=1,
                entered_state_at=now - timedelta(days=i % 30),
            )
            for i in range(count)
        ],
        batch_size=500,
    )
    StageVisit.objects.bulk_create(
        [
            StageVisit(
                text=text,
                stage="dept_review",
                revision=1,
                entered_at=now,
                due_at=now + timedelta(days=5),
                escalate_at=now + timedelta(days=8),
            )
            for text in texts
        ],
        batch_size=500,
    )


def inbox_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/inbox/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_inbox_costs_the_same_for_500_texts_as_for_5(cast, client):
    client.force_login(cast.org_reviewer)
    add_waiting(cast, 5)
    few, html = inbox_queries(client)
    assert html.count('name="texts"') == 5

    add_waiting(cast, 495)
    many, html = inbox_queries(client)

    assert html.count('name="texts"') > 5
    assert many == few


def test_the_inbox_shows_days_waiting_and_the_due_date(cast, client):
    client.force_login(cast.org_reviewer)
    add_waiting(cast, 2)
    html = client.get("/inbox/").content.decode()
    assert len(re.findall(r'<td class="due"[^>]*>\d{4}-\d\d-\d\d', html)) == 2
    assert "1,751,800.00元" in html


def test_the_inbox_is_oldest_first(cast, client):
    client.force_login(cast.org_reviewer)
    add_waiting(cast, 3)
    rows = client.get("/inbox/").context["rows"]
    waited = [row["days"] for row in rows]
    assert waited == sorted(waited, reverse=True)
