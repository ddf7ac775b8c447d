"""One run of a periodic job at a time (workflow.leases): a run that finds another run of the
same job under way does nothing; the lease goes back when the run ends, however it ends.

The processes that run the jobs at once are in tests/test_live_processes.py; here another
database session plays the other scheduler's run."""

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

from tests.live import database_url
from workflow import leases
from workflow.clock import db_now
from workflow.leases import JOB_LOCKS, exclusive, lease
from workflow.models import AuditEvent, StageVisit
from workflow.tasks import sweep_deadlines as deadline_job


@pytest.fixture
def under_review_due(cast):
    """A text at the department's review, due five minutes ago by the database's clock."""
    text = cast.text_in("dept_review")
    past = db_now() - timedelta(minutes=5)
    StageVisit.objects.filter(text=text, left_at__isnull=True).update(
        due_at=past, escalate_at=past + timedelta(days=30)
    )
    return text


@pytest.fixture
def other_session(db) -> Iterator[psycopg.Connection]:
    """Another process's connection to the test database."""
    with psycopg.connect(database_url(), autocommit=True) as conn:
        yield conn


def held_elsewhere(conn: psycopg.Connection, name: str) -> bool:
    """Whether a session other than `conn` holds the job's lease: `conn` cannot take it."""
    taken = conn.execute(
        "SELECT pg_try_advisory_lock(%s, %s)", (JOB_LOCKS, leases._key(name))
    ).fetchone()[0]
    if taken:
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", (JOB_LOCKS, leases._key(name)))
    return not taken


@pytest.mark.postgres
def test_a_job_whose_lease_another_run_holds_does_nothing(under_review_due, other_session):
    other_session.execute(
        "SELECT pg_advisory_lock(%s, %s)", (JOB_LOCKS, leases._key("sweep_deadlines"))
    )

    assert deadline_job() == 0
    assert not AuditEvent.objects.filter(text=under_review_due, action="remind").exists()


@pytest.mark.postgres
def test_the_job_runs_once_the_other_run_gives_the_lease_back(under_review_due, other_session):
    key = (JOB_LOCKS, leases._key("sweep_deadlines"))
    other_session.execute("SELECT pg_advisory_lock(%s, %s)", key)
    deadline_job()
    other_session.execute("SELECT pg_advisory_unlock(%s, %s)", key)

    assert deadline_job() == 1
    assert AuditEvent.objects.filter(text=under_review_due, action="remind").count() == 1


@pytest.mark.postgres
def test_the_lease_is_held_during_the_run_and_given_back_after_it(other_session):
    with lease("some_job") as held:
        assert held
        assert held_elsewhere(other_session, "some_job")

    assert not held_elsewhere(other_session, "some_job")


@pytest.mark.postgres
def test_a_run_that_fails_gives_the_lease_back(other_session):
    @exclusive("failing_job", busy=None)
    def failing_job() -> None:
        raise RuntimeError("the job broke")

    with pytest.raises(RuntimeError):
        failing_job()

    assert not held_elsewhere(other_session, "failing_job")


@pytest.mark.postgres
def test_different_jobs_do_not_hold_each_other_up(other_session):
    other_session.execute("SELECT pg_advisory_lock(%s, %s)", (JOB_LOCKS, leases._key("one_job")))

    with lease("another_job") as held:
        assert held


@pytest.mark.sqlite
def test_on_sqlite_the_lease_is_always_given(db):
    # One writer at a time and IMMEDIATE transactions: each step of a sweep is serialised
    # and checks again what it acts on.
    with lease("some_job") as first, lease("some_job") as second:
        assert (first, second) == (True, True)
