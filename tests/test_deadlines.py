"""Deadlines (DESIGN.md, "Background work"): each stay of a text in a review stage has a
due time; the periodic sweep reminds the stage's assignees once when it is due and tells
the stage's supervisor group once when it is overdue by ESCALATE_AFTER, each audited.

The clock is moved by handing `sweep_deadlines` an explicit `now` relative to the visit's
own `due_at` and `escalate_at`; without one it reads the database's clock."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from notifications.messages import sentence
from notifications.models import Notification
from submissions.models import ProjectText
from tests.factories import act, make_user
from workflow import audit, services
from workflow.clock import add_period, db_now
from workflow.machine import catalog
from workflow.models import AuditEvent, OutboxMessage, StageVisit
from workflow.services import sweep_deadlines
from workflow.states import Role
from workflow.tasks import sweep_deadlines as deadline_task

SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
LOCAL = ZoneInfo(settings.TIME_ZONE)


# --- helpers ---------------------------------------------------------------------------------


def builtin_stage(code: str):
    """A stage of the built-in workflow, as its document (loaded by migration) says."""
    return catalog().machines[0].stage(code)


def open_visit(text) -> StageVisit:
    return StageVisit.objects.get(text=text, left_at__isnull=True)


def visit_of(text, stage: str) -> StageVisit:
    return StageVisit.objects.get(text=text, stage=stage)


def chased(text, kind: str, stage: str = "dept_review") -> list[str]:
    """Recipients of the outbox rows of `kind` ("remind"/"escalate") about `text` at `stage`,
    one entry per row, so that a second reminder shows as a duplicate."""
    return sorted(
        OutboxMessage.objects.filter(text=text, kind=kind, stage=stage).values_list(
            "recipient__username", flat=True
        )
    )


def audited(text, kind: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(text=text, action=kind).order_by("id"))


@pytest.fixture
def under_review(cast) -> ProjectText:
    """An org text in dept_review. Two department reviewers may act on it; its drafter is a
    department reviewer too, but separation of duties keeps them out."""
    make_user("org_reviewer2", Role.DEPT_REVIEWER, cast.org)
    text = cast.text()
    act(cast.org_drafter, text, "submit")
    services.grant_role(
        actor=None, user=cast.org_drafter, role=Role.DEPT_REVIEWER, department=cast.org
    )
    return ProjectText.objects.get(pk=text.pk)


@pytest.fixture
def supervisor(db):
    """A member of the dept_review stage's supervisor group, and someone outside it."""
    group = Group.objects.create(name=builtin_stage("dept_review").supervisor_role)
    boss = make_user("dept_supervisor")
    boss.groups.add(group)
    make_user("bystander")
    return boss


# --- Stage visits and their due times --------------------------------------------------------


@pytest.mark.parametrize("stage", ["dept_review", "finance_review", "approval"])
def test_entering_a_review_stage_opens_a_visit_due_per_the_stages_setting(cast, stage):
    text = cast.text_in(stage)

    visit = open_visit(text)

    assert visit.stage == stage
    assert visit.revision == text.revision
    due_days = builtin_stage(stage).due_days
    assert visit.due_at == add_period(visit.entered_at, {"working_days": due_days})
    assert visit.escalate_at == add_period(visit.due_at, settings.ESCALATE_AFTER)
    assert (visit.reminded_at, visit.escalated_at) == (None, None)


def test_a_visits_due_time_follows_the_configured_period(cast, settings):
    settings.STAGE_DUE = {**settings.STAGE_DUE, "dept_review": {"hours": 7}}
    settings.ESCALATE_AFTER = {"hours": 3}

    visit = open_visit(cast.text_in("dept_review"))

    assert visit.due_at - visit.entered_at == timedelta(hours=7)
    assert visit.escalate_at - visit.due_at == timedelta(hours=3)


def test_moving_on_closes_the_visit_and_opens_one_for_the_next_stage(cast):
    text = cast.text_in("approval")

    visits = list(StageVisit.objects.filter(text=text).order_by("entered_at", "id"))

    assert [v.stage for v in visits] == ["dept_review", "finance_review", "approval"]
    assert [v.left_at is None for v in visits] == [False, False, True]


def test_five_working_days_from_a_friday_is_the_next_friday():
    friday = datetime(2025, 6, 6, 10, 30, tzinfo=LOCAL)

    due = add_period(friday, {"working_days": 5})

    assert due == datetime(2025, 6, 13, 10, 30, tzinfo=LOCAL)
    assert due.weekday() == 4


def test_two_working_days_from_a_thursday_is_the_monday():
    thursday = datetime(2025, 6, 5, 9, 0, tzinfo=LOCAL)

    assert add_period(thursday, {"working_days": 2}) == datetime(2025, 6, 9, 9, 0, tzinfo=LOCAL)


def test_a_period_in_hours_runs_through_the_weekend():
    friday = datetime(2025, 6, 6, 18, 0, tzinfo=LOCAL)

    assert add_period(friday, {"hours": 24}) == datetime(2025, 6, 7, 18, 0, tzinfo=LOCAL)


# --- Reminders -------------------------------------------------------------------------------


def test_no_reminder_before_the_due_time(under_review):
    visit = open_visit(under_review)

    sent = sweep_deadlines(now=visit.due_at - SECOND)

    assert sent == 0
    assert open_visit(under_review).reminded_at is None
    assert chased(under_review, "remind") == []
    assert audited(under_review, "remind") == []


def test_at_the_due_time_the_stages_assignees_are_reminded_once(under_review):
    visit = open_visit(under_review)

    sent = sweep_deadlines(now=visit.due_at)

    assert sent == 1
    # The drafter holds the role too, but may not review their own text.
    assert chased(under_review, "remind") == ["org_reviewer", "org_reviewer2"]
    assert open_visit(under_review).reminded_at == visit.due_at


def test_a_reminder_is_audited_once_without_an_actor(under_review):
    visit = open_visit(under_review)

    sweep_deadlines(now=visit.due_at + HOUR)

    [event] = audited(under_review, "remind")
    assert event.actor_id is None
    assert event.actor_name == ""
    assert event.outcome == "ok"
    assert (event.from_state, event.to_state) == ("dept_review", "dept_review")
    assert event.revision == visit.revision
    assert audit.verify().ok is True


def test_a_later_sweep_sends_no_second_reminder(under_review):
    visit = open_visit(under_review)
    sweep_deadlines(now=visit.due_at)

    again = sweep_deadlines(now=visit.due_at + HOUR)

    assert again == 0
    assert chased(under_review, "remind") == ["org_reviewer", "org_reviewer2"]
    assert len(audited(under_review, "remind")) == 1


def test_the_same_sweep_run_twice_by_hand_reminds_once(under_review):
    now = open_visit(under_review).due_at + HOUR

    first = sweep_deadlines(now=now)
    second = sweep_deadlines(now=now)

    assert (first, second) == (1, 0)
    assert chased(under_review, "remind") == ["org_reviewer", "org_reviewer2"]
    assert len(audited(under_review, "remind")) == 1


def test_the_sweep_task_run_twice_by_hand_reminds_once(under_review):
    _make_due_by_the_database_clock(under_review)

    first = deadline_task.apply()
    second = deadline_task.apply()

    assert (first.get(), second.get()) == (1, 0)
    assert chased(under_review, "remind") == ["org_reviewer", "org_reviewer2"]
    assert len(audited(under_review, "remind")) == 1


def test_moving_the_clock_back_an_hour_fires_nothing_early(under_review, supervisor):
    visit = open_visit(under_review)
    assert sweep_deadlines(now=visit.due_at - HOUR) == 0
    assert sweep_deadlines(now=visit.due_at) == 1

    back = sweep_deadlines(now=visit.due_at - HOUR)

    assert back == 0
    assert sweep_deadlines(now=visit.escalate_at - HOUR) == 0
    assert len(chased(under_review, "remind")) == 2
    assert chased(under_review, "escalate") == []
    assert len(audited(under_review, "remind")) == 1
    assert audited(under_review, "escalate") == []


def test_a_reminder_reaches_the_assignee_in_app_and_by_email(
    under_review, cast, django_capture_on_commit_callbacks
):
    cast.org_reviewer.email = "org_reviewer@example.org"
    cast.org_reviewer.save(update_fields=["email"])
    visit = open_visit(under_review)

    with django_capture_on_commit_callbacks(execute=True):
        sweep_deadlines(now=visit.due_at)

    [notification] = Notification.objects.filter(recipient=cast.org_reviewer, kind="remind")
    assert notification.stage == "dept_review"
    assert "部门审核" in sentence(notification)
    assert "已到处理期限" in sentence(notification)
    [message] = [m for m in mail.outbox if m.to == ["org_reviewer@example.org"]]
    assert f"/texts/{under_review.pk}/" in message.body


# --- Escalation ------------------------------------------------------------------------------


def test_no_escalation_before_the_escalation_time(under_review, supervisor):
    visit = open_visit(under_review)
    sweep_deadlines(now=visit.due_at)

    sent = sweep_deadlines(now=visit.escalate_at - SECOND)

    assert sent == 0
    assert chased(under_review, "escalate") == []
    assert open_visit(under_review).escalated_at is None


def test_when_overdue_the_supervisor_group_is_told_once_and_it_is_audited(under_review, supervisor):
    visit = open_visit(under_review)
    sweep_deadlines(now=visit.due_at)

    sent = sweep_deadlines(now=visit.escalate_at)

    assert sent == 1
    assert chased(under_review, "escalate") == ["dept_supervisor"]
    assert open_visit(under_review).escalated_at == visit.escalate_at
    [event] = audited(under_review, "escalate")
    assert event.actor_id is None
    assert event.from_state == "dept_review"


def test_a_later_sweep_sends_no_second_escalation(under_review, supervisor):
    visit = open_visit(under_review)
    sweep_deadlines(now=visit.due_at)
    sweep_deadlines(now=visit.escalate_at)

    again = sweep_deadlines(now=visit.escalate_at + timedelta(days=3))

    assert again == 0
    assert chased(under_review, "escalate") == ["dept_supervisor"]
    assert len(audited(under_review, "escalate")) == 1
    assert len(audited(under_review, "remind")) == 1


# --- After the text leaves the stage ---------------------------------------------------------


def test_nothing_more_is_sent_for_a_stage_the_text_has_left(cast, under_review, supervisor):
    visit = open_visit(under_review)
    sweep_deadlines(now=visit.due_at)
    act(cast.org_reviewer, under_review, "dept_approve")

    sweep_deadlines(now=visit.escalate_at + timedelta(days=3))

    assert StageVisit.objects.get(pk=visit.pk).left_at is not None
    assert StageVisit.objects.get(pk=visit.pk).escalated_at is None
    assert chased(under_review, "escalate") == []
    assert len(chased(under_review, "remind")) == 2  # the one before it left
    assert [e for e in audited(under_review, "escalate") if e.from_state == "dept_review"] == []


@pytest.mark.parametrize(
    ("action", "who", "comment"),
    [
        ("withdraw", "org_drafter", ""),
        ("return", "org_reviewer", "请补充"),
        ("reject", "org_reviewer", "不符合立项条件"),
    ],
)
def test_a_text_that_left_review_is_never_reminded(cast, under_review, action, who, comment):
    visit = open_visit(under_review)
    act(getattr(cast, who), under_review, action, comment=comment)

    sent = sweep_deadlines(now=visit.escalate_at + timedelta(days=30))

    assert sent == 0
    assert not StageVisit.objects.filter(text=under_review, left_at__isnull=True).exists()
    assert not OutboxMessage.objects.filter(kind__in=["remind", "escalate"]).exists()
    assert audited(under_review, "remind") == []


def test_the_next_stages_visit_has_its_own_due_time_and_assignees(cast, under_review):
    old = open_visit(under_review)
    sweep_deadlines(now=old.due_at)
    act(cast.org_reviewer, under_review, "dept_approve")
    new = open_visit(under_review)
    assert new.stage == "finance_review"
    due_days = builtin_stage("finance_review").due_days
    assert new.due_at == add_period(new.entered_at, {"working_days": due_days})

    assert sweep_deadlines(now=new.due_at - SECOND) == 0
    assert sweep_deadlines(now=new.due_at) == 1

    assert chased(under_review, "remind", stage="finance_review") == ["finance"]
    assert StageVisit.objects.get(pk=new.pk).reminded_at == new.due_at


def test_a_return_and_resubmit_starts_a_fresh_visit_that_is_reminded_again(cast, under_review):
    first = open_visit(under_review)
    sweep_deadlines(now=first.due_at)
    act(cast.org_reviewer, under_review, "return", comment="请补充")
    act(cast.org_drafter, under_review, "submit")
    second = open_visit(under_review)

    sweep_deadlines(now=second.due_at)

    assert second.pk != first.pk
    assert second.revision == 2
    assert len(audited(under_review, "remind")) == 2


# --- The database's clock --------------------------------------------------------------------


def _make_due_by_the_database_clock(text) -> StageVisit:
    past = db_now() - timedelta(minutes=5)
    StageVisit.objects.filter(text=text, left_at__isnull=True).update(
        due_at=past, escalate_at=past + timedelta(days=30)
    )
    return open_visit(text)


def test_a_sweep_without_a_time_uses_the_database_clock(under_review):
    _make_due_by_the_database_clock(under_review)

    sent = sweep_deadlines()

    assert sent == 1
    assert chased(under_review, "remind") == ["org_reviewer", "org_reviewer2"]


def test_a_sweep_without_a_time_leaves_a_visit_not_yet_due_alone(under_review):
    sent = sweep_deadlines()

    assert sent == 0
    assert open_visit(under_review).reminded_at is None


def test_an_application_clock_running_ahead_makes_nothing_due(under_review, monkeypatch):
    ahead = timezone.now() + timedelta(days=60)
    monkeypatch.setattr(timezone, "now", lambda: ahead)

    sent = sweep_deadlines()

    assert sent == 0
    assert open_visit(under_review).reminded_at is None


def test_an_application_clock_running_behind_does_not_hold_back_a_due_reminder(
    under_review, monkeypatch
):
    _make_due_by_the_database_clock(under_review)
    behind = timezone.now() - timedelta(days=60)
    monkeypatch.setattr(timezone, "now", lambda: behind)

    sent = sweep_deadlines()

    assert sent == 1
    assert open_visit(under_review).reminded_at is not None
