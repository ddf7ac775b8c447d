"""E-mail built safely, and one bad message never blocking the others (issue 7, point 7).

A title, a reason and an actor's name may hold line breaks of every kind; the e-mail's
subject is always one header line, on every path (immediate, the sweep's retry, the daily
digest), while the in-app notification keeps the words as written. A message whose sending
fails is recorded on its notification, tried again with backoff, given up after
EMAIL_MAX_ATTEMPTS and shown to administrators; the others go out meanwhile and the sweep
itself succeeds.

The mail server is tests.mail_backends.RefusingLocmemBackend: it refuses every address at
REFUSED_DOMAIN, and everything while it is "down"."""

import email
import email.policy
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.utils import timezone

from notifications import services as notify
from notifications.messages import SUBJECT_MAX_CHARS
from notifications.models import EmailMode, Notification, Preference
from notifications.tasks import sweep_outbox
from submissions.models import ProjectText
from tests.factories import act, make_user, sign_in_with_code
from tests.live import database_url
from tests.mail_backends import OUTAGE_FILE_VARIABLE, REFUSED_DOMAIN
from workflow.states import Role

# Every character that breaks a line somewhere, and other control characters.
BREAKS = {
    "LF": "\n",
    "CR": "\r",
    "CRLF": "\r\n",
    "VT": "\x0b",
    "FF": "\x0c",
    "FS": "\x1c",
    "GS": "\x1d",
    "RS": "\x1e",
    "NEL": "\x85",
    "LINE-SEPARATOR": "\u2028",
    "PARAGRAPH-SEPARATOR": "\u2029",
    "TAB": "\t",
    "ESC": "\x1b",
    "DEL": "\x7f",
    "SEVERAL": " \r\n\u2028 \n",
}
NOT_IN_A_HEADER = set("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\t\x1b\x7f")
TITLE = "村级组织{}换届工作经费"
REASON = "资金测算依据不足，{}请补充说明。"
ACTOR = "审核{}人"


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def refusing_mail_server(settings) -> None:
    settings.EMAIL_BACKEND = "tests.mail_backends.RefusingLocmemBackend"


@pytest.fixture
def acting(django_capture_on_commit_callbacks):
    """acting(user, text, action, comment="") takes the action and runs what its commit
    would have run: the relay and (Celery eager) the delivery with its immediate e-mail."""

    def run(user, text, action: str, comment: str = "") -> ProjectText:
        with django_capture_on_commit_callbacks(execute=True):
            return act(user, text, action, comment=comment)

    return run


class MailServer:
    def __init__(self, flag: Path):
        self.flag = flag

    def down(self) -> None:
        self.flag.touch()

    def up(self) -> None:
        self.flag.unlink(missing_ok=True)


@pytest.fixture
def mail_server(tmp_path, monkeypatch) -> MailServer:
    flag = tmp_path / "mail-server-down"
    monkeypatch.setenv(OUTAGE_FILE_VARIABLE, str(flag))
    return MailServer(flag)


def with_email(user, refused: bool = False):
    user.email = f"{user.username}@{REFUSED_DOMAIN if refused else 'example.org'}"
    user.save(update_fields=["email"])
    return user


def wire(message: mail.EmailMessage) -> email.message.EmailMessage:
    """The message as the mail server receives it, parsed back."""
    return email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)


def wire_subjects(message: mail.EmailMessage) -> list[str]:
    # The parser keeps the folding space before a subject that starts on its second line.
    return [subject.strip() for subject in wire(message).get_all("Subject")]


def mails_to(user) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.to == [user.email]]


def mail_to_subjects(user) -> list[str]:
    return [m.subject for m in mails_to(user)]


def of(user) -> Notification:
    """user's one notification, fresh from the database."""
    return Notification.objects.get(recipient=user)


def make_due(minutes_ago: int = 5) -> None:
    """Time passes: every notification is older than the sweep's wait, and every retry due."""
    now = timezone.now()
    Notification.objects.update(created_at=now - timedelta(minutes=minutes_ago))
    Notification.objects.filter(email_retry_at__isnull=False).update(
        email_retry_at=now - timedelta(seconds=1)
    )


def digest_time():
    """Today at the digest hour, five past."""
    local = timezone.localtime()
    return local.replace(hour=settings.DIGEST_HOUR, minute=5, second=0, microsecond=0)


def returned_with(cast, acting, *, title="村级组织换届工作经费", reason="理由", actor=None):
    """A text with `title` submitted by org_drafter and returned by `actor` with `reason`."""
    actor = actor or cast.org_reviewer
    text = cast.text(title=title)
    acting(cast.org_drafter, text, "submit")
    acting(actor, text, "return", comment=reason)
    return text


# --- Every subject is one header line --------------------------------------------------------


@pytest.mark.parametrize("source", ["title", "reason", "actor name"])
@pytest.mark.parametrize("brk", BREAKS.values(), ids=BREAKS.keys())
def test_the_subject_is_one_line_whatever_the_title_reason_or_actor_name_holds(
    cast, acting, source, brk
):
    with_email(cast.org_drafter)
    actor = cast.org_reviewer
    if source == "actor name":
        actor = make_user(ACTOR.format(brk), Role.DEPT_REVIEWER, cast.org)

    returned_with(
        cast,
        acting,
        title=TITLE.format(brk) if source == "title" else TITLE.format(""),
        reason=REASON.format(brk) if source == "reason" else REASON.format(""),
        actor=actor,
    )

    [message] = mails_to(cast.org_drafter)
    assert not NOT_IN_A_HEADER & set(message.subject)
    expected = {"title": TITLE, "reason": REASON, "actor name": ACTOR}[source].format(" ")
    assert expected in message.subject
    assert wire_subjects(message) == [message.subject]
    assert wire(message).get_all("To") == [cast.org_drafter.email]


def test_a_reason_cannot_add_a_header_or_a_recipient(cast, acting):
    with_email(cast.org_drafter)

    returned_with(cast, acting, reason="理由\r\nBcc: someone@example.org\r\nX-Injected: 1")

    [message] = mails_to(cast.org_drafter)
    received = wire(message)
    assert received["Bcc"] is None
    assert received["X-Injected"] is None
    assert message.recipients() == [cast.org_drafter.email]
    assert "Bcc: someone@example.org" in received["Subject"]


def test_the_email_body_and_the_in_app_message_keep_the_reasons_line_breaks(cast, acting, api):
    with_email(cast.org_drafter)

    returned_with(cast, acting, reason=REASON.format("\n"))

    [message] = mails_to(cast.org_drafter)
    assert REASON.format("\n") in message.body
    [item] = api(cast.org_drafter).get("/api/v1/notifications/").json()["results"]
    assert REASON.format("\n") in item["message"]
    assert item["comment"] == REASON.format("\n")


def test_a_long_subject_is_cut_to_its_limit_with_an_ellipsis(cast, acting):
    with_email(cast.org_drafter)

    returned_with(cast, acting, reason="请补充\n说明。" * 200)

    [message] = mails_to(cast.org_drafter)
    assert len(message.subject) == SUBJECT_MAX_CHARS
    assert message.subject.endswith("…")


def test_an_email_retried_by_the_sweep_has_a_one_line_subject(cast, acting, mail_server):
    with_email(cast.org_drafter)
    mail_server.down()
    returned_with(cast, acting, reason=REASON.format("\r\n\u2028"))
    assert of(cast.org_drafter).email_pending
    mail_server.up()
    make_due()

    notify.sweep_outbox()

    [message] = mails_to(cast.org_drafter)
    assert message.subject.endswith(REASON.format(" "))
    assert wire_subjects(message) == [message.subject]


def test_a_digest_with_a_reason_of_several_lines_goes_out_with_the_reason_inside_its_item(
    cast, acting
):
    with_email(cast.org_drafter)
    Preference.objects.create(user=cast.org_drafter, email_mode=EmailMode.DIGEST)
    returned_with(cast, acting, reason="第一行\r\n第二行\u2028第三行")

    sent = notify.send_digests(now=digest_time())

    assert sent == 1
    [message] = mails_to(cast.org_drafter)
    assert not NOT_IN_A_HEADER & set(message.subject)
    assert "理由：第一行\n  第二行\n  第三行" in message.body


# --- One bad message never blocks the others -------------------------------------------------


def test_an_immediate_email_that_fails_is_recorded_and_the_other_recipients_get_theirs(
    cast, acting
):
    # A return from approval tells the drafter, the department reviewer and finance; the
    # drafter (told first) has an address the mail server refuses.
    with_email(cast.org_drafter, refused=True)
    with_email(cast.org_reviewer)
    with_email(cast.finance)
    text = cast.text_in("approval")
    before = timezone.now()

    acting(cast.approver, text, "return", comment="理由")

    assert len(mails_to(cast.org_reviewer)) == 1
    assert len(mails_to(cast.finance)) == 1
    failed = Notification.objects.get(recipient=cast.org_drafter, kind="return")
    assert failed.email_pending
    assert failed.email_failures == 1
    assert "SMTPRecipientsRefused" in failed.email_error
    assert failed.email_retry_at >= before + timedelta(seconds=settings.EMAIL_RETRY_SECONDS)


@pytest.fixture
def refused_reviewer(cast):
    """A second reviewer of org whose address the mail server refuses; org_reviewer's works.
    Each submit of an org text tells both."""
    with_email(cast.org_reviewer)
    return with_email(make_user("org_reviewer2", Role.DEPT_REVIEWER, cast.org), refused=True)


def test_the_sweep_sends_older_and_newer_emails_around_one_that_fails_and_succeeds(
    cast, acting, mail_server, refused_reviewer
):
    mail_server.down()
    texts = [cast.text(title=f"项目{n}") for n in range(3)]
    for text in texts:
        acting(cast.org_drafter, text, "submit")  # every immediate e-mail fails
    assert mail.outbox == []
    mail_server.up()
    make_due()

    result = sweep_outbox.apply()

    assert result.successful()
    subjects = " ".join(mail_to_subjects(cast.org_reviewer))
    assert len(mails_to(cast.org_reviewer)) == 3
    assert all(f"《{t.title}》" in subjects for t in texts)
    for failed in Notification.objects.filter(recipient=refused_reviewer):
        assert failed.email_pending
        assert failed.email_failures == 2
        assert "SMTPRecipientsRefused" in failed.email_error


def test_a_failed_email_is_not_tried_again_before_its_backoff_is_over(
    cast, acting, refused_reviewer
):
    acting(cast.org_drafter, cast.text(), "submit")
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=5))

    notify.sweep_outbox()

    assert of(refused_reviewer).email_failures == 1


def test_each_failure_doubles_the_wait_before_the_next_try(cast, acting, refused_reviewer):
    acting(cast.org_drafter, cast.text(), "submit")
    waits = []
    for _ in range(3):
        make_due()
        before = timezone.now()
        notify.sweep_outbox()
        waits.append(of(refused_reviewer).email_retry_at - before)

    base = timedelta(seconds=settings.EMAIL_RETRY_SECONDS)
    slack = timedelta(seconds=5)
    for wait, expected in zip(waits, [2 * base, 4 * base, 8 * base], strict=True):
        assert expected <= wait < expected + slack


def test_an_email_that_keeps_failing_is_given_up_after_the_maximum_and_left_alone(
    cast, acting, refused_reviewer, settings, api
):
    settings.EMAIL_MAX_ATTEMPTS = 3
    acting(cast.org_drafter, cast.text(), "submit")  # failure 1
    for _ in range(2):  # failures 2 and 3
        make_due()
        notify.sweep_outbox()

    given_up = of(refused_reviewer)
    assert (given_up.email_pending, given_up.email_failures) == (False, 3)
    assert given_up.email_failed_at is not None
    assert given_up.email_retry_at is None
    assert "mailbox unavailable" in given_up.email_error
    make_due()
    notify.sweep_outbox()
    assert of(refused_reviewer).email_failures == 3
    # The in-app notification is there, unread, as for anyone else.
    listed = api(refused_reviewer).get("/api/v1/notifications/").json()
    assert (listed["count"], listed["unread"]) == (1, 1)


def test_messages_that_keep_failing_go_behind_newer_ones_in_the_retry_queue(
    cast, acting, mail_server, refused_reviewer, settings
):
    # Room for two e-mails per sweep and no backoff: only the queue's order keeps two
    # messages that fail every time from taking every turn.
    settings.EMAIL_RETRY_BATCH = 2
    settings.EMAIL_RETRY_SECONDS = 0
    with_email(make_user("org_reviewer3", Role.DEPT_REVIEWER, cast.org), refused=True)
    acting(cast.org_drafter, cast.text(), "submit")  # org_reviewer's goes; two are refused
    mail_server.down()
    acting(cast.org_drafter, cast.text(title="较新的项目"), "submit")  # three fail
    mail_server.up()
    make_due()

    notify.sweep_outbox()  # the two older refused ones come first, and fail again
    notify.sweep_outbox()

    assert any("较新的项目" in subject for subject in mail_to_subjects(cast.org_reviewer))


def test_one_digest_that_fails_does_not_stop_the_others_and_waits_for_its_backoff(
    cast, acting, refused_reviewer
):
    for user in (cast.org_reviewer, refused_reviewer):
        Preference.objects.create(user=user, email_mode=EmailMode.DIGEST)
    acting(cast.org_drafter, cast.text(), "submit")
    now = digest_time()

    sent = notify.send_digests(now=now)

    assert sent == 1
    assert len(mails_to(cast.org_reviewer)) == 1
    failed = of(refused_reviewer)
    assert (failed.email_pending, failed.email_failures) == (True, 1)
    assert "SMTPRecipientsRefused" in failed.email_error
    assert Preference.objects.get(user=refused_reviewer).last_digest_on is None
    assert notify.send_digests(now=now + timedelta(seconds=1)) == 0
    assert of(refused_reviewer).email_failures == 1  # still in its backoff
    notify.send_digests(now=failed.email_retry_at + timedelta(seconds=1))
    assert of(refused_reviewer).email_failures == 2


def test_a_digest_tried_again_after_its_backoff_goes_out_once_the_server_is_back(
    cast, acting, mail_server
):
    with_email(cast.org_reviewer)
    Preference.objects.create(user=cast.org_reviewer, email_mode=EmailMode.DIGEST)
    acting(cast.org_drafter, cast.text(), "submit")
    mail_server.down()
    now = digest_time()
    notify.send_digests(now=now)
    mail_server.up()

    sent = notify.send_digests(now=of(cast.org_reviewer).email_retry_at)

    assert sent == 1
    assert len(mails_to(cast.org_reviewer)) == 1
    assert of(cast.org_reviewer).emailed_at is not None


# --- What administrators see and do ----------------------------------------------------------


@pytest.fixture
def given_up(cast, acting, refused_reviewer, settings) -> Notification:
    settings.EMAIL_MAX_ATTEMPTS = 1
    acting(cast.org_drafter, cast.text(), "submit")
    notification = of(refused_reviewer)
    assert notification.email_failed_at is not None
    return notification


def test_the_admin_lists_given_up_emails_with_their_error(cast, client, given_up):
    client.force_login(cast.admin)

    page = client.get("/admin/notifications/notification/?email=failed")

    assert page.status_code == 200
    html = page.content.decode()
    assert f"/admin/notifications/notification/{given_up.pk}/" in html
    assert "SMTPRecipientsRefused" in html
    assert page.context["cl"].result_count == 1


def test_an_administrator_can_send_a_given_up_email_again_once_the_address_is_fixed(
    cast, client, given_up, refused_reviewer
):
    client.force_login(cast.admin)
    refused_reviewer.email = "org_reviewer2@example.org"
    refused_reviewer.save(update_fields=["email"])

    response = client.post(
        "/admin/notifications/notification/",
        {"action": "retry_email", "_selected_action": [given_up.pk]},
    )
    assert response.status_code == 302
    make_due()
    notify.sweep_outbox()

    assert len(mails_to(refused_reviewer)) == 1
    assert of(refused_reviewer).emailed_at is not None


def test_a_user_without_the_right_cannot_send_emails_again(cast, client, given_up):
    staff = make_user("operator", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_notification"))
    sign_in_with_code(client, staff)

    client.post(
        "/admin/notifications/notification/",
        {"action": "retry_email", "_selected_action": [given_up.pk]},
    )

    assert of(given_up.recipient).email_failed_at is not None


# --- Concurrency (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_email_another_process_is_sending_is_skipped_not_waited_for(cast, acting, mail_server):
    with_email(cast.org_reviewer)
    mail_server.down()
    acting(cast.org_drafter, cast.text(), "submit")
    mail_server.up()
    notification = of(cast.org_reviewer)
    with psycopg.connect(database_url()) as other:  # a transaction, holding the row's lock
        other.execute(
            "SELECT 1 FROM notifications_notification WHERE id = %s FOR UPDATE",
            (notification.pk,),
        )
        with connection.cursor() as cursor:
            # Were it waiting, it would fail after 5 s rather than hang the suite.
            cursor.execute("SET lock_timeout = '5s'")
        try:
            assert notify.send_email(notification.pk) is False
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")

    assert of(cast.org_reviewer).email_pending
    assert mails_to(cast.org_reviewer) == []
