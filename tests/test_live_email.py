"""E-mail through a real Redis and a real Celery worker with beat (issue 7, point 7): a reason
with line breaks is mailed with a one-line subject, and a message the mail server refuses
for good never holds up the others while the beat sweep keeps running.

The worker's mail server is tests.mail_backends.RefusingFileBackend: messages it accepts are
written to the worker's mail directory; it refuses every address at REFUSED_DOMAIN, and
everything while the outage file exists. PostgreSQL only: the worker is another process.
"""

# ruff: noqa: F811 - the fixtures imported from tests.live are redefined as test parameters

import email
import email.policy
import re
from pathlib import Path

import pytest

from notifications.models import Notification
from tests.factories import act, make_text
from tests.live import (  # noqa: F401 - fixtures
    celery_worker,
    live_broker,
    redis_server,
)
from tests.mail_backends import OUTAGE_FILE_VARIABLE, REFUSED_DOMAIN
from workflow.models import OutboxMessage
from workflow.states import Action

pytestmark = pytest.mark.postgres

MAX_ATTEMPTS = 4
SWEEP_SUCCEEDED = re.compile(r"Task notifications\.tasks\.sweep_outbox\[[^\]]+\] succeeded")
SWEEP_FAILED = re.compile(r"Task notifications\.tasks\.sweep_outbox\[[^\]]+\] raised")
REASON = "资金测算依据不足，\r\n请补充说明。\u2028附表见第三节。"
RULE = b"\n" + b"-" * 79 + b"\n"  # Django's file backend ends each message with it


@pytest.fixture
def outage_file(tmp_path) -> Path:
    return tmp_path / "mail-server-down"


@pytest.fixture
def celery_worker_env(outage_file) -> dict[str, str]:
    return {
        "EMAIL_BACKEND": "tests.mail_backends.RefusingFileBackend",
        OUTAGE_FILE_VARIABLE: str(outage_file),
        # Unsent e-mails are the sweep's after 3 s; failures wait 1, 2, 4 s; the fourth
        # failure gives up. The sweep runs every 2 s (tests.live).
        "OUTBOX_REDISPATCH_SECONDS": "3",
        "EMAIL_RETRY_SECONDS": "1",
        "EMAIL_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    }


def with_email(user, refused: bool = False):
    user.email = f"{user.username}@{REFUSED_DOMAIN if refused else 'example.org'}"
    user.save(update_fields=["email"])
    return user


def sent_mail(worker) -> list[email.message.EmailMessage]:
    """Every message the worker's mail server accepted, parsed."""
    found = []
    for path in sorted(Path(worker.mail_dir).glob("*.log")):
        # As bytes: an 8-bit body parsed from str comes back with its CJK as backslash escapes.
        for raw in path.read_bytes().split(RULE):
            if raw.strip():
                found.append(email.message_from_bytes(raw, policy=email.policy.default))
    return found


def mail_to(worker, user) -> list[email.message.EmailMessage]:
    return [m for m in sent_mail(worker) if m["To"] == user.email]


def subject(message: email.message.EmailMessage) -> str:
    # The parser keeps the folding space before a subject that starts on its second line.
    return str(message["Subject"]).strip()


def sweeps_succeeded(worker) -> int:
    return len(SWEEP_SUCCEEDED.findall(worker.log_text()))


def test_a_reason_with_line_breaks_is_mailed_with_a_one_line_subject(cast, celery_worker):
    drafter = with_email(cast.org_drafter)
    text = cast.text(title="村级组织换届工作经费")
    act(drafter, text, Action.SUBMIT)

    act(
        cast.org_reviewer,
        text,
        Action.RETURN,
        comment="资金测算依据不足，\r\n请补充说明。\u2028附表见第三节。",
    )

    [message] = celery_worker.wait_for(
        lambda: mail_to(celery_worker, drafter), timeout=60, message="the return's e-mail"
    )
    assert message.get_all("Subject") and len(message.get_all("Subject")) == 1
    assert subject(message).endswith("理由：资金测算依据不足， 请补充说明。 附表见第三节。")
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", subject(message))
    body = message.get_content().replace("\r\n", "\n")
    assert "资金测算依据不足，\n请补充说明。" in body
    notification = Notification.objects.get(recipient=drafter, kind="return")
    assert (notification.email_pending, notification.email_failures) == (False, 0)


def test_an_email_refused_for_good_never_holds_up_older_or_newer_ones_and_the_sweep_runs_on(
    cast, celery_worker, outage_file
):
    reviewer = with_email(cast.org_reviewer)
    refused = with_email(cast.edu_reviewer, refused=True)
    older = cast.text(title="较早的项目")
    bad = make_text(cast.edu_drafter, cast.edu, title="收件人被拒的项目")
    newer = cast.text(title="较新的项目")
    outage_file.touch()  # the mail server is down: every e-mail waits for the sweep
    act(cast.org_drafter, older, Action.SUBMIT)
    act(cast.edu_drafter, bad, Action.SUBMIT)
    act(cast.org_drafter, newer, Action.SUBMIT)
    celery_worker.wait_for(
        lambda: Notification.objects.filter(email_failures__gte=1).count() == 3,
        timeout=60,
        message="three notifications delivered, their e-mails failed once",
    )

    outage_file.unlink()  # back: the refused address stays refused

    def both_sent() -> list[str]:
        subjects = [subject(m) for m in mail_to(celery_worker, reviewer)]
        return subjects if len(subjects) >= 2 else []

    subjects = celery_worker.wait_for(
        both_sent, timeout=60, message="the older and the newer e-mail sent by the sweep"
    )
    assert len(subjects) == 2
    assert any("《较早的项目》" in s for s in subjects)
    assert any("《较新的项目》" in s for s in subjects)
    failures, error = celery_worker.wait_for(
        lambda: (
            Notification.objects.filter(recipient=refused, email_failed_at__isnull=False)
            .values_list("email_failures", "email_error")
            .first()
        ),
        timeout=90,
        message="the refused e-mail given up",
    )
    assert failures == MAX_ATTEMPTS
    assert "SMTPRecipientsRefused" in error
    assert not mail_to(celery_worker, refused)
    # The sweep goes on succeeding, and has never failed.
    after_give_up = sweeps_succeeded(celery_worker)
    celery_worker.wait_for(
        lambda: sweeps_succeeded(celery_worker) >= after_give_up + 2,
        timeout=30,
        message="two more sweeps after the give-up",
    )
    assert not SWEEP_FAILED.search(celery_worker.log_text())
    # Every in-app notification is there, the refused reader's included.
    assert set(Notification.objects.values_list("recipient_id", "text_id")) == {
        (reviewer.pk, older.pk),
        (refused.pk, bad.pk),
        (reviewer.pk, newer.pk),
    }
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()
