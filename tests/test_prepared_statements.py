"""The statements every action runs, written out once and prepared (issue 12).

The action's lock and the access token's lookup are written out from the models' fields
(`workflow.prepared.Columns`): what they load must be what the ORM's `select_related` loads,
on both databases; `prepared.insert` and `prepared.update` store what the ORM would. On
PostgreSQL the lock, the facts, the roles and the token are prepared once per connection;
DB_PREPARED_STATEMENTS=0 (a pooler that cannot keep them) prepares nothing, and the actions
work the same."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from submissions.models import ProjectText
from tests.factories import issue_token, with_token
from workflow import prepared, tokens
from workflow.locking import _lock_row
from workflow.models import AccessToken, StageVisit

API = "/api/v1"


def fields_of(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def token_client(user: Any) -> APIClient:
    return with_token(issue_token(user.username))


def submit(client: APIClient, text: ProjectText) -> None:
    answer = client.post(
        f"{API}/texts/{text.pk}/actions/submit/", {"version": text.version}, format="json"
    )
    assert answer.status_code == 200, answer.content


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_lock_loads_a_draft_as_the_orm_does(cast) -> None:
    text = cast.text(amount=Decimal("1234567.89"))
    orm = ProjectText.objects.select_related("department", "created_by").get(pk=text.pk)

    locked = _lock_row(text.pk)

    assert fields_of(locked) == fields_of(orm)
    assert fields_of(locked.department) == fields_of(orm.department)
    assert fields_of(locked.created_by) == fields_of(orm.created_by)
    with pytest.raises(ProjectText.route.RelatedObjectDoesNotExist):
        locked.route  # noqa: B018 (a draft has no route: the outer join found none)


def test_the_lock_loads_a_submitted_text_with_its_route(cast) -> None:
    text = cast.text_in("finance_review")
    orm = ProjectText.objects.select_related("route").get(pk=text.pk)

    locked = _lock_row(text.pk)

    assert fields_of(locked) == fields_of(orm)
    assert fields_of(locked.route) == fields_of(orm.route)
    assert locked.route.text is locked


def test_the_lock_reads_the_database_clock(cast) -> None:
    text = cast.text()

    locked = _lock_row(text.pk)

    assert locked.locked_at.tzinfo is not None
    assert abs((locked.locked_at - ProjectText.objects.get(pk=text.pk).updated_at).days) < 1


def test_the_lock_of_a_missing_text_is_none(cast) -> None:
    assert _lock_row(10**9) is None


def test_a_token_is_found_with_its_user_as_the_orm_finds_it(cast) -> None:
    client = token_client(cast.org_drafter)
    key = client._credentials["HTTP_AUTHORIZATION"].removeprefix("Token ")
    orm = AccessToken.objects.select_related("user").get(key_hash=tokens.digest(key))

    found = tokens.find(key)

    assert fields_of(found) == fields_of(orm)
    assert fields_of(found.user) == fields_of(orm.user)
    assert tokens.find(key + "x") is None


@pytest.mark.postgres
def test_an_action_prepares_its_lock_facts_roles_and_token(cast) -> None:
    client = token_client(cast.org_drafter)
    submit(client, cast.text())

    statements = prepared_statements()

    assert any("FOR UPDATE OF t" in sql for sql in statements), statements
    assert any("SELECT 'revision'" in sql for sql in statements), statements
    assert any("'group', g.name" in sql for sql in statements), statements
    assert any("k.key_hash = $1" in sql for sql in statements), statements


@pytest.mark.postgres
def test_a_second_action_runs_the_statements_the_first_prepared(cast) -> None:
    client = token_client(cast.org_drafter)
    submit(client, cast.text())
    first = sorted(prepared_statements())

    submit(client, cast.text())

    assert sorted(prepared_statements()) == first


@pytest.mark.postgres
def test_a_prepared_statement_is_in_the_statement_log(cast) -> None:
    text = cast.text()

    with CaptureQueriesContext(connection) as captured:
        _lock_row(text.pk)

    (statement,) = [q["sql"] for q in captured.captured_queries]
    # With its values in place, as Django logs any statement: it can be run again (EXPLAIN).
    assert statement.endswith(f"WHERE t.id = {text.pk} FOR UPDATE OF t")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + statement)


@pytest.mark.postgres
def test_with_prepared_statements_off_nothing_is_prepared(cast) -> None:
    client = token_client(cast.org_drafter)
    text = cast.text()
    # What OPTIONS["prepare_threshold"] = None (DB_PREPARED_STATEMENTS=0) gives a connection.
    connection.connection.prepare_threshold = None
    before = prepared_statements()

    submit(client, text)

    assert prepared_statements() == before
    assert not any("FOR UPDATE OF t" in sql for sql in before)
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"


def visit(text: ProjectText, **overrides: Any) -> StageVisit:
    now = timezone.now()
    fields = {
        "text": text,
        "stage": "dept_review",
        "revision": 1,
        "entered_at": now,
        "due_at": now + timedelta(days=5),
        "escalate_at": now + timedelta(days=7),
        "quorums": {"dept_reviewer": 2},
    }
    return StageVisit(**{**fields, **overrides})


def test_an_insert_stores_what_saving_stores(cast) -> None:
    text = cast.text()
    saved, inserted = visit(text), visit(text, left_at=timezone.now())
    saved.save(force_insert=True)

    prepared.insert(inserted)

    assert inserted.pk is not None and inserted.pk != saved.pk
    assert not inserted._state.adding
    stored = StageVisit.objects.get(pk=inserted.pk)
    assert fields_of(stored) == fields_of(inserted)
    assert stored.quorums == {"dept_reviewer": 2}


def test_an_update_changes_the_rows_the_filter_names(cast) -> None:
    first, second = cast.text(), cast.text()
    done = timezone.now() - timedelta(days=1)
    open_first, closed_first = visit(first), visit(first, left_at=done)
    open_second = visit(second)
    for row in (open_first, closed_first, open_second):
        row.save()
    at = timezone.now()

    changed = prepared.update(StageVisit, {"left_at": at}, text=first.pk, left_at=None)

    assert changed == 1
    left = dict(StageVisit.objects.values_list("pk", "left_at"))
    assert left == {open_first.pk: at, closed_first.pk: done, open_second.pk: None}


def test_an_update_whose_condition_no_longer_holds_changes_nothing(cast) -> None:
    text = cast.text()
    row = visit(text)
    row.save()

    changed = prepared.update(StageVisit, {"stage": "x"}, pk=row.pk, revision=2)

    assert changed == 0
    assert StageVisit.objects.get(pk=row.pk).stage == "dept_review"


def test_an_insert_tells_the_receivers_of_saving(cast) -> None:
    heard = []

    def receiver(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        heard.append((sender, instance.pk, created))

    post_save.connect(receiver, sender=StageVisit)
    try:
        row = visit(cast.text())
        prepared.insert(row)
    finally:
        post_save.disconnect(receiver, sender=StageVisit)

    assert heard == [(StageVisit, row.pk, True)]


def test_no_receiver_listens_to_a_text_being_saved() -> None:
    # An action writes the text's row by prepared.update, which sends no signal: a receiver
    # of a text's saving would have to be called from there (workflow.services.actions._write).
    assert not pre_save.has_listeners(ProjectText)
    assert not post_save.has_listeners(ProjectText)
