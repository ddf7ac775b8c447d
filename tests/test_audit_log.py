"""The audit log (DESIGN.md, "Audit history"): one event per change, written in the change's
own transaction; refused attempts recorded in a transaction of their own; hash chains per
stream that `verify_audit` and the verify API check; and a table the database itself keeps
append-only (pgtrigger on PostgreSQL, SQLite's own triggers via migration 0002)."""

from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction

from submissions.models import ProjectText, Revision
from tests.factories import act, make_user
from tests.tampering import tamper
from workflow import audit, services
from workflow.exceptions import InvalidInput, NotPermitted, NotVisible, StaleVersion, WrongState
from workflow.models import AuditChain, AuditEvent
from workflow.states import Role

TABLE = "workflow_audit_event"
SAMPLE = Path(__file__).resolve().parents[2] / "shared/data/xinping-2025-org-dept-project-texts.txt"


def last_event_id() -> int:
    last = AuditEvent.objects.order_by("-id").first()
    return last.pk if last else 0


def text_events(text: ProjectText) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream=audit.text_stream(text.pk)).order_by("seq"))


def verify_api(api, cast) -> dict[str, Any]:
    response = api(cast.auditor).get("/api/v1/audit/verify/")
    assert response.status_code == 200
    return response.json()


# --- One event per successful change, in the change's transaction ---------------------------


ACTIONS = [
    # (action, from state, actor, comment, expected to_state)
    ("submit", "draft", "org_drafter", "", "dept_review"),
    ("submit", "returned", "org_drafter", "", "dept_review"),
    ("withdraw", "dept_review", "org_drafter", "", "draft"),
    ("dept_approve", "dept_review", "org_reviewer", "", "finance_review"),
    ("finance_approve", "finance_review", "finance", "", "approval"),
    ("approve", "approval", "approver", "同意", "approved"),
    ("return", "dept_review", "org_reviewer", "资金测算依据不足", "returned"),
    ("return", "finance_review", "finance", "资金测算依据不足", "returned"),
    ("return", "approval", "approver", "资金测算依据不足", "returned"),
    ("reject", "dept_review", "org_reviewer", "不符合立项条件", "rejected"),
    ("reject", "finance_review", "finance", "不符合立项条件", "rejected"),
    ("reject", "approval", "approver", "不符合立项条件", "rejected"),
]


@pytest.mark.parametrize(
    ("action", "start", "who", "comment", "target"),
    ACTIONS,
    ids=[f"{a[0]}-from-{a[1]}" for a in ACTIONS],
)
def test_each_successful_action_writes_exactly_one_ok_event(
    cast, action, start, who, comment, target
):
    text = cast.text_in(start)
    before = last_event_id()
    actor = getattr(cast, who)

    result = act(actor, text, action, comment=comment)

    new = list(AuditEvent.objects.filter(pk__gt=before))
    assert len(new) == 1
    event = new[0]
    assert event.outcome == "ok"
    assert event.action == action
    assert event.stream == audit.text_stream(text.pk)
    assert event.text_id == text.pk
    assert event.actor_id == actor.pk
    assert event.actor_name == actor.username
    assert event.department == "org"
    assert (event.from_state, event.to_state) == (start, target)
    assert event.revision == result.revision
    assert event.comment == comment
    assert result.state == target


def test_creating_a_draft_writes_one_create_event_with_every_field(cast):
    before = last_event_id()

    text = cast.text(title="乡村教师培训", amount="1200.50")

    new = list(AuditEvent.objects.filter(pk__gt=before))
    assert len(new) == 1
    event = new[0]
    assert (event.action, event.outcome, event.text_id) == ("create", "ok", text.pk)
    assert event.actor_name == "org_drafter"
    assert event.to_state == "draft"
    assert event.changes["title"] == [None, "乡村教师培训"]
    assert event.changes["amount"] == [None, "1200.50"]
    assert event.changes["fiscal_year"] == [None, 2025]


def test_an_edit_writes_one_event_with_before_and_after_of_changed_fields_only(cast):
    text = cast.text(title="旧标题", amount="100.00")
    before = last_event_id()

    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=text.version,
        data={"title": "新标题", "amount": "250.00", "plan": text.plan},
    )

    new = list(AuditEvent.objects.filter(pk__gt=before))
    assert len(new) == 1
    event = new[0]
    assert (event.action, event.outcome) == ("edit", "ok")
    assert event.changes == {"title": ["旧标题", "新标题"], "amount": ["100.00", "250.00"]}


def test_an_edit_that_changes_nothing_writes_no_event_and_keeps_the_version(cast):
    text = cast.text()
    before = last_event_id()

    result = services.edit_text(
        actor=cast.org_drafter, text_id=text.pk, version=text.version, data={"title": text.title}
    )

    assert not AuditEvent.objects.filter(pk__gt=before).exists()
    assert result.version == text.version


def test_importing_a_file_writes_one_create_event_per_text(cast):
    before = last_event_id()

    created = services.import_texts(
        actor=cast.org_drafter, filename="texts.txt", data=SAMPLE.read_bytes()
    )

    new = list(AuditEvent.objects.filter(pk__gt=before).order_by("id"))
    assert [e.text_id for e in new] == [t.pk for t in created]
    assert {(e.action, e.outcome) for e in new} == {("create", "ok")}
    assert {e.detail.get("source") for e in new} == {"texts.txt"}


def test_a_submit_that_fails_validation_leaves_no_event_and_no_revision(cast, api):
    text = cast.text(basis="")
    before = last_event_id()

    response = api(cast.org_drafter).post(
        f"/api/v1/texts/{text.pk}/actions/submit/", {"version": text.version}, format="json"
    )

    assert response.status_code == 400
    assert "basis" in response.json()
    assert not AuditEvent.objects.filter(pk__gt=before).exists()
    assert not Revision.objects.filter(text=text).exists()
    after = ProjectText.objects.get(pk=text.pk)
    assert (after.state, after.version, after.revision) == ("draft", text.version, 0)


def test_a_submit_whose_event_cannot_be_written_changes_nothing(cast):
    """The change and its event commit together: when appending the event fails (here the
    stream's head row was rewound, so the event collides with the first one), the state
    change and the frozen revision are rolled back with it."""
    text = cast.text()
    stream = audit.text_stream(text.pk)
    AuditChain.objects.filter(stream=stream).update(length=0, head_hash=audit.GENESIS_HASH)
    before = last_event_id()

    with pytest.raises(IntegrityError):
        act(cast.org_drafter, text, "submit")

    after = ProjectText.objects.get(pk=text.pk)
    assert (after.state, after.version, after.revision) == ("draft", text.version, 0)
    assert not Revision.objects.filter(text=text).exists()
    assert not AuditEvent.objects.filter(pk__gt=before).exists()


def test_an_action_that_fails_validation_writes_no_event(cast):
    text = cast.text_in("dept_review")
    before = last_event_id()

    with pytest.raises(InvalidInput):
        act(cast.org_reviewer, text, "return", comment="   ")

    assert not AuditEvent.objects.filter(pk__gt=before).exists()
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"


# --- The chain -------------------------------------------------------------------------------


def full_history(cast) -> ProjectText:
    text = cast.text()
    services.edit_text(
        actor=cast.org_drafter, text_id=text.pk, version=text.version, data={"plan": "改"}
    )
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "return", comment="请补充")
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "dept_approve")
    act(cast.finance, text, "finance_approve")
    act(cast.approver, text, "approve")
    return text


def test_a_texts_events_are_numbered_one_to_n_in_their_stream(cast):
    text = full_history(cast)

    events = text_events(text)

    assert [e.seq for e in events] == list(range(1, 9))
    assert [e.action for e in events] == [
        "create", "edit", "submit", "return", "submit", "dept_approve", "finance_approve",
        "approve",
    ]  # fmt: skip


def test_each_event_links_to_the_hash_of_the_one_before(cast):
    events = text_events(full_history(cast))

    assert events[0].prev_hash == audit.GENESIS_HASH
    for previous, event in pairwise(events):
        assert event.prev_hash == previous.hash


def test_each_events_hash_recomputes_from_its_stored_content(cast):
    events = text_events(full_history(cast))

    for event in events:
        stored = AuditEvent.objects.get(pk=event.pk)  # as read back from the database
        assert audit.compute_hash(stored) == stored.hash
        assert len(stored.hash) == 64


def test_the_streams_head_names_its_last_event(cast):
    text = full_history(cast)
    events = text_events(text)

    head = AuditChain.objects.get(stream=audit.text_stream(text.pk))

    assert (head.length, head.head_hash) == (len(events), events[-1].hash)


def test_events_of_different_texts_form_separate_chains(cast):
    first, second = cast.text(), cast.text(title="另一个项目")
    act(cast.org_drafter, first, "submit")
    act(cast.org_drafter, second, "submit")

    assert [e.seq for e in text_events(first)] == [1, 2]
    assert [e.seq for e in text_events(second)] == [1, 2]
    assert text_events(second)[0].prev_hash == audit.GENESIS_HASH


def test_an_intact_log_verifies(cast):
    full_history(cast)

    result = audit.verify()

    assert result.ok is True
    assert result.first_bad is None
    assert result.checked == AuditEvent.objects.count()


# --- verify_audit and the verify API ---------------------------------------------------------


def test_verify_audit_finishes_normally_on_an_intact_log(cast, capsys):
    full_history(cast)

    call_command("verify_audit")

    assert "OK" in capsys.readouterr().out


def test_verify_audit_fails_naming_an_event_whose_comment_was_altered(cast):
    text = full_history(cast)
    victim = text_events(text)[3]  # the return, with its reason
    tamper(f"UPDATE {TABLE} SET comment = %s WHERE id = %s", ["无意见", victim.pk])

    with pytest.raises(CommandError, match=rf"#{victim.pk}\b"):
        call_command("verify_audit")


def test_the_verify_api_names_an_event_whose_comment_was_altered(cast, api):
    text = full_history(cast)
    victim = text_events(text)[3]
    tamper(f"UPDATE {TABLE} SET comment = %s WHERE id = %s", ["无意见", victim.pk])

    body = verify_api(api, cast)

    assert body["ok"] is False
    assert body["first_bad"] == victim.pk


def test_verify_names_the_first_of_two_altered_events(cast):
    text = full_history(cast)
    events = text_events(text)
    tamper(f"UPDATE {TABLE} SET actor_name = %s WHERE id = %s", ["someone", events[6].pk])
    tamper(f"UPDATE {TABLE} SET to_state = %s WHERE id = %s", ["approved", events[2].pk])

    result = audit.verify()

    assert (result.ok, result.first_bad) == (False, events[2].pk)


def test_an_altered_event_whose_hash_was_recomputed_is_caught_at_the_next_event(cast):
    text = full_history(cast)
    events = text_events(text)
    forged = AuditEvent.objects.get(pk=events[3].pk)
    forged.comment = "同意"
    forged_hash = audit.compute_hash(forged)
    tamper(
        f"UPDATE {TABLE} SET comment = %s, hash = %s WHERE id = %s",
        ["同意", forged_hash, forged.pk],
    )

    result = audit.verify()

    assert (result.ok, result.first_bad) == (False, events[4].pk)


def test_deleting_a_middle_event_is_detected_naming_the_next_event(cast, api):
    text = full_history(cast)
    events = text_events(text)
    tamper(f"DELETE FROM {TABLE} WHERE id = %s", [events[3].pk])

    with pytest.raises(CommandError, match=rf"#{events[4].pk}\b"):
        call_command("verify_audit")
    body = verify_api(api, cast)
    assert (body["ok"], body["first_bad"]) == (False, events[4].pk)


def test_deleting_a_streams_first_event_is_detected_naming_the_next_event(cast):
    text = full_history(cast)
    events = text_events(text)
    tamper(f"DELETE FROM {TABLE} WHERE id = %s", [events[0].pk])

    result = audit.verify()

    assert (result.ok, result.first_bad) == (False, events[1].pk)


def test_deleting_the_tail_of_a_stream_is_detected(cast, api):
    text = full_history(cast)
    events = text_events(text)
    tamper(f"DELETE FROM {TABLE} WHERE id = %s", [events[-1].pk])

    assert verify_api(api, cast)["ok"] is False
    with pytest.raises(CommandError):
        call_command("verify_audit")


def test_only_auditors_may_verify_the_log(cast, api):
    response = api(cast.org_reviewer).get("/api/v1/audit/verify/")

    assert response.status_code == 403


# --- The database refuses to change events ---------------------------------------------------


def _an_event(cast) -> AuditEvent:
    return text_events(cast.text())[0]


# The same on both databases: pgtrigger's triggers on PostgreSQL, SQLite's own on SQLite
# (the test's connection is the application's connection).


def test_the_database_refuses_update_of_an_event(cast):
    event = _an_event(cast)

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET comment = 'x' WHERE id = %s", [event.pk])

    assert AuditEvent.objects.get(pk=event.pk).comment == event.comment


def test_the_database_refuses_delete_of_an_event(cast):
    event = _an_event(cast)

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_database_refuses_orm_update_and_delete_of_events(cast):
    event = _an_event(cast)

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(comment="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()

    assert AuditEvent.objects.get(pk=event.pk).comment == event.comment
    assert audit.verify().ok is True


@pytest.mark.postgres
def test_postgres_refuses_truncate_of_the_audit_table(cast):
    _an_event(cast)
    count = AuditEvent.objects.count()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}")

    assert AuditEvent.objects.count() == count


@pytest.mark.sqlite
def test_sqlite_refuses_deleting_every_event(cast):
    # SQLite has no TRUNCATE; its "DELETE FROM table" is the same thing.
    _an_event(cast)
    count = AuditEvent.objects.count()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")

    assert AuditEvent.objects.count() == count


# --- Refused attempts ------------------------------------------------------------------------


def _refused_events(text: ProjectText, before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=before, text_id=text.pk))


def test_an_attempt_without_permission_is_recorded_as_refused(cast):
    text = cast.text_in("dept_review")
    before = last_event_id()

    with pytest.raises(NotPermitted):
        act(cast.org_drafter, text, "dept_approve")

    [event] = _refused_events(text, before)
    assert (event.action, event.outcome) == ("dept_approve", "refused")
    assert event.actor_name == "org_drafter"
    assert event.detail["reason"] == "permission_denied"
    assert (event.from_state, event.to_state) == ("dept_review", "")
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"


def test_an_attempt_in_the_wrong_state_is_recorded_as_refused(cast):
    text = cast.text()
    before = last_event_id()

    with pytest.raises(WrongState):
        act(cast.org_reviewer, text, "dept_approve")

    [event] = _refused_events(text, before)
    assert (event.action, event.outcome) == ("dept_approve", "refused")
    assert event.detail["reason"] == "wrong_state"
    assert ProjectText.objects.get(pk=text.pk).state == "draft"


def test_an_attempt_with_a_stale_version_is_recorded_as_refused(cast):
    text = cast.text_in("dept_review")
    before = last_event_id()

    with pytest.raises(StaleVersion):
        services.perform_action(
            actor=cast.org_reviewer,
            text_id=text.pk,
            action="dept_approve",
            version=text.version - 1,
        )

    [event] = _refused_events(text, before)
    assert (event.action, event.outcome) == ("dept_approve", "refused")
    assert event.detail["reason"] == "stale_version"
    assert event.detail["version"] == text.version - 1
    after = ProjectText.objects.get(pk=text.pk)
    assert (after.state, after.version) == ("dept_review", text.version)


def test_an_attempt_on_an_invisible_text_is_recorded_on_the_actors_own_stream(cast):
    text = cast.text_in("dept_review")
    before = last_event_id()

    with pytest.raises(NotVisible):
        act(cast.edu_reviewer, text, "dept_approve")

    assert _refused_events(text, before) == []
    [event] = AuditEvent.objects.filter(pk__gt=before)
    assert event.stream == f"user:{cast.edu_reviewer.pk}"
    assert (event.outcome, event.actor_name, event.text_id) == ("refused", "edu_reviewer", None)
    assert event.detail["reason"] == "not_found"
    assert event.detail["requested_text"] == str(text.pk)


def test_a_refused_edit_is_recorded_and_changes_nothing(cast):
    text = cast.text_in("dept_review")
    before = last_event_id()

    with pytest.raises(WrongState):
        services.edit_text(
            actor=cast.org_drafter, text_id=text.pk, version=text.version, data={"title": "改"}
        )

    [event] = _refused_events(text, before)
    assert (event.action, event.outcome) == ("edit", "refused")
    assert ProjectText.objects.get(pk=text.pk).title == text.title


def test_a_refused_separation_of_duties_attempt_is_recorded(cast):
    text = cast.text_in("dept_review")
    services.grant_role(
        actor=None, user=cast.org_drafter, role=Role.DEPT_REVIEWER, department=cast.org
    )
    before = last_event_id()

    with pytest.raises(NotPermitted):
        act(cast.org_drafter, text, "dept_approve")

    [event] = _refused_events(text, before)
    assert (event.action, event.outcome) == ("dept_approve", "refused")
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"


def test_a_refused_attempt_over_the_api_answers_409_and_appears_in_history(cast, api):
    text = cast.text_in("dept_review")
    client = api(cast.org_reviewer)

    response = client.post(
        f"/api/v1/texts/{text.pk}/actions/dept_approve/",
        {"version": text.version + 5},
        format="json",
    )

    assert response.status_code == 409
    history = client.get(f"/api/v1/texts/{text.pk}/history/").json()["results"]
    assert history[-1]["action"] == "dept_approve"
    assert history[-1]["outcome"] == "refused"
    assert history[-1]["actor"] == "org_reviewer"


def test_refused_attempts_take_their_place_in_the_texts_chain(cast):
    text = cast.text_in("dept_review")
    for who in ("org_drafter", "auditor"):
        with pytest.raises(NotPermitted):
            act(getattr(cast, who), text, "dept_approve")
    act(cast.org_reviewer, text, "dept_approve")

    events = text_events(text)

    assert [(e.action, e.outcome) for e in events] == [
        ("create", "ok"),
        ("submit", "ok"),
        ("dept_approve", "refused"),
        ("dept_approve", "refused"),
        ("dept_approve", "ok"),
    ]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]


def test_the_log_still_verifies_after_refused_attempts(cast):
    text = cast.text_in("dept_review")
    with pytest.raises(StaleVersion):
        services.perform_action(
            actor=cast.org_reviewer, text_id=text.pk, action="dept_approve", version=0
        )
    with pytest.raises(WrongState):
        act(cast.org_reviewer, text, "approve")

    result = audit.verify()

    assert result.ok is True, result.detail
    call_command("verify_audit")


# --- Grants ----------------------------------------------------------------------------------


def _user_events(user, before: int = 0) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(stream=audit.user_stream(user.pk), pk__gt=before).order_by("seq")
    )


# 三员分立 (issue 11): roles are granted by the security administrator, no longer by admin.
def test_granting_a_role_writes_one_event_on_the_users_stream(cast, security_admin):
    user = make_user("new_reviewer")
    before = last_event_id()

    services.grant_role(
        actor=security_admin, user=user, role=Role.DEPT_REVIEWER, department=cast.edu
    )

    new = list(AuditEvent.objects.filter(pk__gt=before))
    assert len(new) == 1
    event = new[0]
    assert event.stream == audit.user_stream(user.pk)
    assert (event.action, event.outcome) == ("grant_role", "ok")
    assert event.actor_name == "security_admin"
    assert event.department == "edu"
    assert event.detail == {"user": "new_reviewer", "role": "dept_reviewer"}
    assert event.text_id is None


def test_revoking_a_role_writes_one_event_on_the_users_stream(cast, security_admin):
    before = last_event_id()

    services.revoke_role(
        actor=security_admin, user=cast.org_reviewer, role=Role.DEPT_REVIEWER, department=cast.org
    )

    new = list(AuditEvent.objects.filter(pk__gt=before))
    assert len(new) == 1
    event = new[0]
    assert event.stream == audit.user_stream(cast.org_reviewer.pk)
    assert (event.action, event.outcome, event.department) == ("revoke_role", "ok", "org")
    assert event.detail["role"] == "dept_reviewer"


def test_granting_a_role_already_held_writes_no_event(cast):
    before = last_event_id()

    changed = services.grant_role(actor=None, user=cast.finance, role=Role.FINANCE_REVIEWER)

    assert changed is False
    assert not AuditEvent.objects.filter(pk__gt=before).exists()


def test_grants_on_the_command_line_are_audited_without_an_actor(cast):
    user = make_user("cli_user")
    before = last_event_id()

    call_command("grant_role", "cli_user", "auditor")
    call_command("revoke_role", "cli_user", "auditor")

    events = _user_events(user, before)
    assert [(e.action, e.actor_id, e.actor_name) for e in events] == [
        ("grant_role", None, ""),
        ("revoke_role", None, ""),
    ]


def test_a_users_grant_events_chain_like_a_texts(cast):
    user = make_user("chained")
    services.grant_role(actor=None, user=user, role=Role.DRAFTER, department=cast.org)
    services.grant_role(actor=None, user=user, role=Role.DRAFTER, department=cast.edu)
    services.revoke_role(actor=None, user=user, role=Role.DRAFTER, department=cast.org)

    events = _user_events(user)

    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == audit.GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert all(audit.compute_hash(e) == e.hash for e in events)
    assert audit.verify().ok is True
