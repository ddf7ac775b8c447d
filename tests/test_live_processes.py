"""Several processes at once (issue 11): web processes, workers and, by mistake, two beat
schedulers on one database and one broker. Nothing is notified twice, no reminder,
escalation or checkpoint is written twice, and no sweep races another: every row a sweep
acts on is locked and checked again under the lock, results are keyed by unique constraints,
and each periodic job holds a lease while it runs (workflow.leases).

The embedded default (SQLite, no broker) is shown with two web processes serving writes at
once: SQLite's one writer queues them (IMMEDIATE transactions), none fails."""

# ruff: noqa: F811 - the fixtures imported from tests.live are redefined as test parameters

import json
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import Group

from notifications.models import Notification
from submissions.models import ProjectText
from tests.factories import make_user, text_fields
from tests.live import (  # noqa: F401 - fixtures
    PROJECT_DIR,
    WebServer,
    live_broker,
    redis_server,
    several_processes,
    wait_for,
)
from workflow import audit, services
from workflow.clock import db_now
from workflow.machine import catalog
from workflow.models import AuditChain, AuditCheckpoint, AuditEvent, OutboxMessage, StageVisit

DEMO_PASSWORD = "demo-pass-2025"


# --- The embedded default: SQLite, two web processes -------------------------------------------


def _manage(*args: str, sqlite_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{sqlite_path}",
        "DEMO_MODE": "1",
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "SECRET_KEY": "only-for-this-test",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
def embedded_site(tmp_path):
    """Two web processes (four threads each) on one SQLite file holding the demo, with no
    broker: notifications are delivered in the web process after each commit."""
    database = tmp_path / "db.sqlite3"
    _manage("migrate", "--verbosity", "0", sqlite_path=database)
    _manage("seed_demo", sqlite_path=database)
    environment = {
        "REDIS_URL": "",
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "SECRET_KEY": "only-for-this-test",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    servers = [
        WebServer(tmp_path / f"web{n}", f"sqlite:///{database}", environment, threads=4)
        for n in range(2)
    ]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.kill_now()


def _token(server: WebServer, username: str) -> str:
    response = requests.post(
        f"{server.url}/api/v1/auth/token/",
        json={"username": username, "password": DEMO_PASSWORD},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.mark.sqlite
def test_two_web_processes_serving_writes_at_once_on_sqlite_never_fail(embedded_site):
    drafter = {"Authorization": f"Token {_token(embedded_site[0], 'org_drafter')}"}
    reviewer = {"Authorization": f"Token {_token(embedded_site[1], 'org_reviewer')}"}
    answers: Counter = Counter()

    def create(n: int) -> dict:
        response = requests.post(
            f"{embedded_site[n % 2].url}/api/v1/texts/",
            json={**text_fields(title=f"并发写入项目{n}"), "department": "org"},
            headers=drafter,
            timeout=60,
        )
        answers[response.status_code] += 1
        return response.json() if response.status_code == 201 else {}

    def act(n: int, text: dict, action: str, who: dict, version: int) -> dict:
        response = requests.post(
            f"{embedded_site[n % 2].url}/api/v1/texts/{text['id']}/actions/{action}/",
            json={"version": version},
            headers=who,
            timeout=60,
        )
        answers[response.status_code] += 1
        return response.json() if response.status_code == 200 else {}

    with ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(create, range(24)))
        submitted = list(
            pool.map(lambda n: act(n, texts[n], "submit", drafter, texts[n]["version"]), range(24))
        )
        approved = list(
            pool.map(
                lambda n: act(
                    n + 1, submitted[n], "dept_approve", reviewer, submitted[n]["version"]
                ),
                range(24),
            )
        )

    assert answers == {201: 24, 200: 48}
    assert {text["state"] for text in approved} == {"finance_review"}
    for server in embedded_site:
        assert "database is locked" not in server.log_text()
        assert "Traceback" not in server.log_text()


# --- Production: two web processes, three workers, two beat schedulers -------------------------


@pytest.fixture
def people(cast):
    """The cast with e-mail addresses, and a supervisor of the department's review stage."""
    supervisors = Group.objects.create(
        name=catalog().machines[0].stage("dept_review").supervisor_role
    )
    boss = make_user("dept_supervisor")
    boss.groups.add(supervisors)
    for user in (cast.org_drafter, cast.org_reviewer, cast.finance, boss):
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    return cast


def _overdue(texts) -> None:
    """Make the texts' stays at their stage overdue, past reminder and escalation alike."""
    past = db_now() - timedelta(minutes=5)
    StageVisit.objects.filter(text__in=texts, left_at__isnull=True).update(
        due_at=past, escalate_at=past
    )


def _messages(fleet) -> int:
    # Django's file backend ends each message with a rule of 79 dashes.
    rule = "\n" + "-" * 79 + "\n"
    return sum(path.read_text(encoding="utf-8").count(rule) for path in fleet.mails())


def _settled(overdue) -> bool:
    """Every overdue stay escalated, every notification delivered and e-mailed, and the
    whole log sealed."""
    latest = AuditCheckpoint.objects.order_by("-seq").first()
    return (
        not StageVisit.objects.filter(text__in=overdue, escalated_at__isnull=True).exists()
        and not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()
        and not Notification.objects.filter(email_pending=True).exists()
        and latest is not None
        and latest.event_count == sum(AuditChain.objects.values_list("length", flat=True))
    )


def _issued(user) -> str:
    """A token as the token endpoint issues one (the key exists only in its answer)."""
    _token, key = services.issue_token(user=user, address="127.0.0.1", path="/tests/")
    return key


@pytest.mark.postgres
def test_two_beats_three_workers_and_two_web_processes_do_everything_once(
    people, several_processes
):
    fleet = several_processes
    # Texts waiting too long at the department's review: each is reminded, then escalated.
    overdue = [people.text_in("dept_review") for _ in range(6)]
    _overdue(overdue)
    # Meanwhile people act through both web processes.
    drafter = {"Authorization": f"Token {_issued(people.org_drafter)}"}
    reviewer = {"Authorization": f"Token {_issued(people.org_reviewer)}"}
    for n in range(6):
        text = people.text()
        for action, who, server in (
            ("submit", drafter, fleet.web[n % 2]),
            ("dept_approve", reviewer, fleet.web[(n + 1) % 2]),
        ):
            version = ProjectText.objects.get(pk=text.pk).version
            response = requests.post(
                f"{server.url}/api/v1/texts/{text.pk}/actions/{action}/",
                json={"version": version},
                headers=who,
                timeout=60,
            )
            assert response.status_code == 200, response.text

    wait_for(lambda: _settled(overdue), timeout=120, message=fleet.logs)
    # Several more rounds of every job from both schedulers: a duplicate would show now.
    sent = [beat.sent("remind-and-escalate") for beat in fleet.beats]
    wait_for(
        lambda: all(
            beat.sent("remind-and-escalate") >= before + 3
            and beat.sent("seal-audit-log") >= 3
            and beat.sent("relay-pending-outbox") >= 3
            for beat, before in zip(fleet.beats, sent, strict=True)
        ),
        timeout=60,
        message=fleet.logs,
    )
    time.sleep(2)  # the last jobs sent finish

    for text in overdue:
        assert AuditEvent.objects.filter(text=text, action="remind").count() == 1
        assert AuditEvent.objects.filter(text=text, action="escalate").count() == 1
    outbox = Counter(OutboxMessage.objects.values_list("text_id", "kind", "recipient_id"))
    assert outbox and max(outbox.values()) == 1, outbox.most_common(3)
    assert outbox[(overdue[0].pk, "remind", people.org_reviewer.pk)] == 1
    assert Notification.objects.count() == OutboxMessage.objects.count()
    emailed = Notification.objects.filter(emailed_at__isnull=False).count()
    assert emailed > 0
    # Every notice to someone with an address was e-mailed, or was done with unread: a
    # request to act delivered after its recipient had acted (the two web processes race the
    # workers) is read on arrival and not e-mailed.
    addressed = Notification.objects.filter(recipient__email__gt="")
    assert not addressed.filter(emailed_at__isnull=True, read_at__isnull=True).exists()
    assert not Notification.objects.filter(email_failed_at__isnull=False).exists()
    assert _messages(fleet) == emailed

    checkpoints = list(AuditCheckpoint.objects.order_by("seq"))
    assert [c.seq for c in checkpoints] == list(range(1, len(checkpoints) + 1))
    # No checkpoint seals what the one before it sealed already.
    assert all(c.heads for c in checkpoints)
    assert len({c.root for c in checkpoints}) == len(checkpoints)
    lines = fleet.checkpoint_file.read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["seq"] for line in lines) == [c.seq for c in checkpoints]
    assert audit.verify().ok
