"""The lists are served by indexes at province scale, for every role (issue 12).

On PostgreSQL, with 50,000 texts copied from texts the service brought to every state
(over 100,000 decisions and 200,000 events with them), analysed: the plan of the first
page of the text list, of the inbox and of the audit search, for each role, reads no
texts, decisions or audit events by a sequential scan. The plans are asked of the
planner (EXPLAIN without ANALYZE), so the test is about their shape, not their speed."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

from submissions.models import ProjectText
from tests.factories import act
from tests.scale import copy_texts
from workflow.models import AuditEvent, Decision
from workflow.permissions import Authority
from workflow.selectors.audit import audit_events, search_events
from workflow.selectors.texts import inbox, text_list, text_listing

pytestmark = pytest.mark.postgres

TEXTS = 50_000
PAGE = 25
WATCHED = {
    ProjectText._meta.db_table,
    Decision._meta.db_table,
    AuditEvent._meta.db_table,
}
ROLES = ("org_drafter", "org_reviewer", "finance", "approver", "auditor")


@pytest.fixture
def province(cast) -> dict[str, Any]:
    """50,000 texts in every state, with their decisions and events, analysed."""
    texts = [cast.text_in(state, title=f"{state}项目") for state in ("draft", "dept_review")]
    texts += [cast.text_in(state) for state in ("finance_review", "approval", "returned")]
    approved = cast.text_in("approval", title="已批项目")
    act(cast.approver, approved, "approve", comment="同意")
    # A text returned twice before it was approved: 6 decisions.
    busy = cast.text_in("returned", title="多次退回项目")
    act(cast.org_drafter, busy, "submit")
    act(cast.org_reviewer, busy, "dept_approve")
    act(cast.finance, busy, "return", comment="测算依据不足")
    act(cast.org_drafter, busy, "submit")
    act(cast.org_reviewer, busy, "dept_approve")
    act(cast.finance, busy, "finance_approve")
    act(cast.approver, busy, "approve", comment="同意")
    templates = [*texts, approved, busy]
    # Most texts of a province are done (approved) or still drafts; a few per cent wait at
    # each stage. Half of them are at another department (below).
    weights = {busy.pk: 4, approved.pk: 4, texts[0].pk: 3}
    total = sum(weights.get(t.pk, 1) for t in templates)
    made = 0
    for template in templates:
        share = (TEXTS - len(templates)) * weights.get(template.pk, 1) // total
        made += copy_texts([template], share)
    with connection.cursor() as cursor:
        # Half of the copies belong to the other department: every role narrows something.
        cursor.execute(
            f"UPDATE {ProjectText._meta.db_table} SET department_id = %s "
            "WHERE id %% 2 = 0 AND id > %s",
            [cast.edu.pk, max(t.pk for t in templates)],
        )
        for table in (*WATCHED, "workflow_route", "submissions_revision", "workflow_stage_visit"):
            cursor.execute(f"ANALYZE {table}")
    # The generated province must be of the size it stands for, or the plans prove little.
    assert ProjectText.objects.count() >= TEXTS * 0.99
    assert Decision.objects.count() > 100_000
    assert AuditEvent.objects.count() > 200_000
    return {"busy": busy, "made": made}


def seq_scans(plan: dict) -> Iterator[str]:
    """The watched tables a plan (a node of EXPLAIN (FORMAT JSON)) reads sequentially."""
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in WATCHED:
        yield plan["Relation Name"]
    for child in plan.get("Plans", ()):
        yield from seq_scans(child)


def plan_of(queryset: QuerySet) -> dict:
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # nothing can match (an auditor's inbox): no query at all
        return {}
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        document = cursor.fetchone()[0]
    if isinstance(document, str):
        import json

        document = json.loads(document)
    return document[0]["Plan"]


def explained(queryset: QuerySet) -> str:
    """The plan as people read it, for the message of a failure."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def first_pages(cast, who: str, busy: ProjectText) -> dict[str, QuerySet]:
    authority = Authority.of(getattr(cast, who))
    pages = {
        "text list": text_list(authority, {})[:PAGE],
        "text list of a state": text_list(authority, {"state": "approval"})[:PAGE],
        "text list page": text_listing(authority, {}).texts[:PAGE],
        "inbox": inbox(authority)[:PAGE],
    }
    if who == "auditor":
        for name, params in {
            "": {},
            "by action": {"action": "finance_approve"},
            "by actor": {"actor": "finance"},
            "by text": {"text": str(busy.pk)},
            "by time": {"since": "2020-01-01", "until": "2020-01-31"},
        }.items():
            pages[f"audit events {name}"] = audit_events(authority, params)[:PAGE]
            pages[f"audit search {name}"] = search_events(authority, params)[:PAGE]
    return pages


def test_no_first_page_of_any_role_scans_texts_decisions_or_events(cast, province):
    """One test for every role: generating the province once costs most of its time."""
    scans = {}
    for who in ROLES:
        for name, queryset in first_pages(cast, who, province["busy"]).items():
            tables = sorted(set(seq_scans(plan_of(queryset))))
            if tables:
                scans[who, name] = (tables, explained(queryset))

    assert not scans, "\n\n".join(f"{key} scans {t}:\n{plan}" for key, (t, plan) in scans.items())
