"""Notifications (DESIGN.md, "Notifications" and "Background work"): who is told of each
action, the outbox and its idempotent delivery, the in-app API, e-mail in the reader's
language, immediately or as a daily digest, and the sweep that relays what was never
handed over.

Under the `db` fixture nothing commits, so the relay registered with `on_commit` runs only
where a test asks for it with `django_capture_on_commit_callbacks(execute=True)`; Celery
runs eagerly in-process (no REDIS_URL)."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from notifications import services as notify
from notifications.models import EmailMode, Notification, Preference
from notifications.tasks import deliver
from submissions.models import ProjectText
from tests.factories import act, make_text, make_user
from workflow import services
from workflow.models import OutboxMessage
from workflow.states import Role

API = "/api/v1/notifications"
REASON = "资金测算依据不足，请补充说明。"
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def acting(django_capture_on_commit_callbacks):
    """acting(user, text, action, comment="") takes the action and runs what its commit
    would have run (the relay, and with Celery eager, the delivery)."""

    def run(user, text, action: str, comment: str = "") -> ProjectText:
        with django_capture_on_commit_callbacks(execute=True):
            return act(user, text, action, comment=comment)

    return run


def told(text, kind: str) -> set[str]:
    """Usernames holding an in-app notification of `kind` about `text`."""
    return set(
        Notification.objects.filter(text=text, kind=kind).values_list(
            "recipient__username", flat=True
        )
    )


def with_email(user, address: str | None = None):
    user.email = address or f"{user.username}@example.org"
    user.save(update_fields=["email"])
    return user


def link_to(text) -> str:
    return f"{settings.SITE_URL}/texts/{text.pk}/"


def set_preference(user, **fields) -> Preference:
    preference, _created = Preference.objects.get_or_create(user=user)
    for name, value in fields.items():
        setattr(preference, name, value)
    preference.save()
    return preference


def digest_time(hour: int | None = None):
    """Today (local time) at `hour` (DIGEST_HOUR by default), five past."""
    hour = settings.DIGEST_HOUR if hour is None else hour
    local = timezone.localtime()
    return local.replace(hour=hour, minute=5, second=0, microsecond=0)


# --- Who is told -----------------------------------------------------------------------------


def test_submit_tells_each_department_reviewer_of_the_texts_department_only(cast, acting):
    make_user("org_reviewer2", Role.DEPT_REVIEWER, cast.org)
    text = cast.text()

    acting(cast.org_drafter, text, "submit")

    assert told(text, "submit") == {"org_reviewer", "org_reviewer2"}


def test_dept_approve_tells_each_finance_reviewer_covering_the_department(cast, acting):
    make_user("finance_org", Role.FINANCE_REVIEWER, cast.org)
    make_user("finance_edu", Role.FINANCE_REVIEWER, cast.edu)
    text = cast.text_in("dept_review")

    acting(cast.org_reviewer, text, "dept_approve")

    assert told(text, "dept_approve") == {"finance", "finance_org"}


def test_finance_approve_tells_each_approver(cast, acting):
    make_user("approver2", Role.APPROVER)
    text = cast.text_in("finance_review")

    acting(cast.finance, text, "finance_approve")

    assert told(text, "finance_approve") == {"approver", "approver2"}


CLOSING = [
    # (action, from state, actor, who is told: the drafter and all who acted on the revision)
    ("return", "dept_review", "org_reviewer", {"org_drafter"}),
    ("reject", "dept_review", "org_reviewer", {"org_drafter"}),
    ("return", "finance_review", "finance", {"org_drafter", "org_reviewer"}),
    ("reject", "finance_review", "finance", {"org_drafter", "org_reviewer"}),
    ("return", "approval", "approver", {"org_drafter", "org_reviewer", "finance"}),
    ("reject", "approval", "approver", {"org_drafter", "org_reviewer", "finance"}),
    ("approve", "approval", "approver", {"org_drafter", "org_reviewer", "finance"}),
]


@pytest.mark.parametrize(
    ("action", "start", "who", "expected"),
    CLOSING,
    ids=[f"{c[0]}-from-{c[1]}" for c in CLOSING],
)
def test_return_reject_and_approve_tell_the_drafter_and_everyone_who_acted_on_the_revision(
    cast, acting, action, start, who, expected
):
    text = cast.text_in(start)

    acting(getattr(cast, who), text, action, comment=REASON)

    assert told(text, action) == expected


def test_a_co_drafter_who_submitted_the_revision_is_told_beside_the_drafter(cast, acting):
    co_drafter = make_user("org_drafter2", Role.DRAFTER, cast.org)
    text = cast.text_in("returned")  # written by org_drafter
    act(co_drafter, text, "submit")  # revision 2 is submitted by the co-drafter

    acting(cast.org_reviewer, text, "return", comment=REASON)

    assert told(text, "return") == {"org_drafter", "org_drafter2"}


def test_reviewers_of_an_earlier_revision_are_not_told(cast, acting):
    second_reviewer = make_user("org_reviewer2", Role.DEPT_REVIEWER, cast.org)
    text = cast.text_in("returned")  # revision 1 was returned by org_reviewer
    act(cast.org_drafter, text, "submit")
    act(second_reviewer, text, "dept_approve")  # revision 2

    acting(cast.finance, text, "return", comment=REASON)

    assert told(text, "return") == {"org_drafter", "org_reviewer2"}


def test_nobody_is_told_of_their_own_submit(cast, acting):
    both = make_user("drafter_and_reviewer", Role.DRAFTER, cast.org)
    services.grant_role(actor=None, user=both, role=Role.DEPT_REVIEWER, department=cast.org)
    # Written and submitted by one of the department's own reviewers.
    text = make_text(both, cast.org)

    acting(both, text, "submit")

    assert told(text, "submit") == {"org_reviewer"}
    assert not OutboxMessage.objects.filter(recipient=both).exists()


def test_creating_and_editing_a_draft_tell_nobody(cast):
    text = cast.text()
    services.edit_text(
        actor=cast.org_drafter, text_id=text.pk, version=text.version, data={"plan": "改"}
    )

    assert not OutboxMessage.objects.exists()
    assert not Notification.objects.exists()


def test_withdrawing_tells_nobody(cast, acting):
    text = cast.text_in("dept_review")
    before = set(OutboxMessage.objects.values_list("pk", flat=True))

    acting(cast.org_drafter, text, "withdraw")

    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == before
    assert not Notification.objects.filter(kind="withdraw").exists()


def test_each_recipient_gets_one_notification_per_action(cast, acting):
    make_user("org_reviewer2", Role.DEPT_REVIEWER, cast.org)
    text = cast.text()

    acting(cast.org_drafter, text, "submit")
    acting(cast.org_drafter, text, "withdraw")
    acting(cast.org_drafter, text, "submit")

    per_recipient = sorted(
        Notification.objects.filter(text=text).values_list("recipient__username", flat=True)
    )
    assert per_recipient == ["org_reviewer", "org_reviewer", "org_reviewer2", "org_reviewer2"]
    assert OutboxMessage.objects.filter(text=text).count() == 4
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()


# --- Delivery: idempotent --------------------------------------------------------------------


def test_the_deliver_task_run_twice_for_one_outbox_row_notifies_and_emails_once(cast):
    with_email(cast.org_reviewer)
    text = cast.text_in("dept_review")  # nothing commits: the outbox row waits
    [row] = OutboxMessage.objects.filter(text=text, kind="submit")

    first = deliver.apply(args=[row.pk])
    second = deliver.apply(args=[row.pk])

    assert (first.get(), second.get()) == (True, False)
    assert Notification.objects.filter(outbox=row).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [cast.org_reviewer.email]


def test_the_deliver_service_called_twice_delivers_once(cast):
    with_email(cast.org_reviewer)
    cast.text_in("dept_review")
    [row] = OutboxMessage.objects.all()

    first = notify.deliver(row.pk)
    second = notify.deliver(row.pk)

    assert first is not None
    assert second is None
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_an_unknown_outbox_id_delivers_nothing(cast):
    with_email(cast.org_reviewer)
    cast.text_in("dept_review")
    unknown = OutboxMessage.objects.order_by("-pk").first().pk + 1000

    result = deliver.apply(args=[unknown])

    assert result.get() is False
    assert not Notification.objects.exists()
    assert mail.outbox == []


# --- The sweep relays what was never handed over --------------------------------------------


def test_the_outbox_sweep_relays_rows_never_dispatched_and_delivers_them_once(
    cast, django_capture_on_commit_callbacks
):
    with_email(cast.org_reviewer)
    text = cast.text()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        act(cast.org_drafter, text, "submit")  # committed, but the relay never ran
    assert len(callbacks) == 1
    assert not Notification.objects.exists()

    relayed = notify.sweep_outbox()

    assert relayed == 1
    assert told(text, "submit") == {"org_reviewer"}
    assert OutboxMessage.objects.get(text=text).delivered_at is not None
    assert len(mail.outbox) == 1


def test_a_second_outbox_sweep_delivers_nothing_more(cast, django_capture_on_commit_callbacks):
    with_email(cast.org_reviewer)
    text = cast.text()
    with django_capture_on_commit_callbacks(execute=False):
        act(cast.org_drafter, text, "submit")
    notify.sweep_outbox()

    again = notify.sweep_outbox()

    assert again == 0
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


# --- The in-app API --------------------------------------------------------------------------


@pytest.fixture
def inbox(cast, acting):
    """org_reviewer is told of two submits; org_drafter of one return (by another reviewer
    of org: acting marks the actor's own waiting notices read)."""
    colleague = make_user("org_reviewer_2", Role.DEPT_REVIEWER, cast.org)
    first = cast.text(title="第一个项目")
    second = cast.text(title="第二个项目")
    acting(cast.org_drafter, first, "submit")
    acting(cast.org_drafter, second, "submit")
    acting(colleague, second, "return", comment=REASON)
    return first, second


def test_the_list_shows_only_my_notifications_with_the_unread_count(cast, api, inbox):
    response = api(cast.org_reviewer).get(f"{API}/")

    assert response.status_code == 200
    body = response.json()
    mine = Notification.objects.filter(recipient=cast.org_reviewer)
    mine = set(mine.values_list("pk", flat=True))
    assert {item["id"] for item in body["results"]} == mine
    assert body["count"] == 2
    assert body["unread"] == 2
    assert {item["kind"] for item in body["results"]} == {"submit"}


def test_a_listed_notification_says_what_happened_in_chinese_and_links_to_the_text(
    cast, api, inbox
):
    first, _second = inbox

    results = api(cast.org_reviewer).get(f"{API}/").json()["results"]

    [item] = [r for r in results if r["text"] == first.pk]
    assert "提交了" in item["message"]
    assert "《第一个项目》" in item["message"]
    assert "org_drafter" in item["message"]
    assert item["link"] == link_to(first)
    assert item["actor"] == "org_drafter"
    assert item["read"] is False


def test_marking_a_notification_read_marks_it_and_lowers_the_unread_count(cast, api, inbox):
    client = api(cast.org_reviewer)
    target = Notification.objects.filter(recipient=cast.org_reviewer).first()

    response = client.post(f"{API}/{target.pk}/read/")

    assert response.status_code == 200
    assert response.json()["read"] is True
    assert Notification.objects.get(pk=target.pk).read_at is not None
    assert client.get(f"{API}/unread-count/").json() == {"unread": 1}
    assert client.get(f"{API}/").json()["unread"] == 1


def test_marking_someone_elses_notification_read_is_404_and_changes_nothing(cast, api, inbox):
    theirs = Notification.objects.get(recipient=cast.org_drafter)

    response = api(cast.org_reviewer).post(f"{API}/{theirs.pk}/read/")

    assert response.status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_unread_count_counts_only_my_unread_notifications(cast, api, inbox):
    assert api(cast.org_reviewer).get(f"{API}/unread-count/").json() == {"unread": 2}
    assert api(cast.org_drafter).get(f"{API}/unread-count/").json() == {"unread": 1}
    assert api(cast.finance).get(f"{API}/unread-count/").json() == {"unread": 0}


def test_read_all_marks_all_of_mine_and_nobody_elses(cast, api, inbox):
    response = api(cast.org_reviewer).post(f"{API}/read-all/")

    assert response.status_code == 200
    assert response.json() == {"marked": 2}
    assert not Notification.objects.filter(
        recipient=cast.org_reviewer, read_at__isnull=True
    ).exists()
    assert Notification.objects.get(recipient=cast.org_drafter).read_at is None


def test_notifications_need_a_login(cast, api, inbox):
    assert api().get(f"{API}/").status_code == 401
    assert api().get(f"{API}/unread-count/").status_code == 401


# --- Preferences -----------------------------------------------------------------------------


def test_preferences_default_to_immediate_email_in_chinese(cast, api):
    response = api(cast.org_reviewer).get(f"{API}/preferences/")

    assert response.status_code == 200
    assert response.json() == {
        "email_enabled": True,
        "email_mode": "immediate",
        "language": "zh-hans",
    }


def test_preferences_can_be_changed(cast, api):
    response = api(cast.org_reviewer).patch(
        f"{API}/preferences/",
        {"email_enabled": False, "email_mode": "digest", "language": "en"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {"email_enabled": False, "email_mode": "digest", "language": "en"}
    stored = Preference.objects.get(user=cast.org_reviewer)
    assert (stored.email_enabled, stored.email_mode, stored.language) == (False, "digest", "en")


@pytest.mark.parametrize(
    "body",
    [
        {"email_mode": "weekly"},
        {"language": "fr"},
        {"email_enabled": "no"},
        {"email_enabled": 1},
        {"last_digest_on": "2025-01-01"},
        {"email_mode": ["digest"]},
        {"email_mode": {"digest": True}},
        {"language": ["en"]},
        {"language": {"en": 1}},
        {"email_enabled": None},
    ],
    ids=[
        "mode",
        "language",
        "enabled-string",
        "enabled-number",
        "unknown-field",
        "mode-list",
        "mode-object",
        "language-list",
        "language-object",
        "enabled-null",
    ],
)
def test_an_invalid_preference_is_400_naming_the_field_and_changes_nothing(cast, api, body):
    client = api(cast.org_reviewer)

    response = client.patch(f"{API}/preferences/", body, format="json")

    assert response.status_code == 400
    [field] = body
    assert field in response.json()
    assert client.get(f"{API}/preferences/").json() == {
        "email_enabled": True,
        "email_mode": "immediate",
        "language": "zh-hans",
    }


# --- E-mail ----------------------------------------------------------------------------------


def test_an_immediate_email_in_chinese_with_a_link_is_sent_by_default(cast, acting):
    with_email(cast.org_reviewer)
    text = cast.text()

    acting(cast.org_drafter, text, "submit")

    [message] = mail.outbox
    assert message.to == ["org_reviewer@example.org"]
    assert "提交了" in message.subject
    assert text.title in message.subject
    assert "提交了" in message.body
    assert link_to(text) in message.body


def test_an_email_for_a_reader_who_chose_english_is_in_english(cast, acting):
    with_email(cast.org_reviewer)
    set_preference(cast.org_reviewer, language="en")
    text = cast.text()

    acting(cast.org_drafter, text, "submit")

    [message] = mail.outbox
    assert "提交了" not in message.subject
    assert "提交了" not in message.body
    assert "submitted" in message.subject
    assert "submitted" in message.body
    assert link_to(text) in message.body
    # Nothing Chinese but the text's own title.
    assert not CJK.search(message.body.replace(text.title, ""))


def test_a_reader_with_email_off_gets_the_notification_but_no_email(cast, acting):
    with_email(cast.org_reviewer)
    set_preference(cast.org_reviewer, email_enabled=False)
    text = cast.text()

    acting(cast.org_drafter, text, "submit")

    assert told(text, "submit") == {"org_reviewer"}
    assert mail.outbox == []


def test_a_notification_delivered_while_email_was_off_is_not_emailed_once_it_is_on(cast, acting):
    """E-mail off means no e-mail for what happens meanwhile, not e-mail later: turning it
    back on must not send the backlog when the sweep runs a minute later."""
    with_email(cast.org_reviewer)
    set_preference(cast.org_reviewer, email_enabled=False)
    text = cast.text()
    acting(cast.org_drafter, text, "submit")
    assert told(text, "submit") == {"org_reviewer"}
    set_preference(cast.org_reviewer, email_enabled=True)
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=5))

    notify.sweep_outbox()

    assert mail.outbox == []


def test_a_notification_delivered_while_email_was_off_is_not_in_a_later_digest(cast, acting):
    with_email(cast.org_reviewer)
    set_preference(cast.org_reviewer, email_enabled=False)
    acting(cast.org_drafter, cast.text(title="关闭邮件时的项目"), "submit")
    set_preference(cast.org_reviewer, email_enabled=True, email_mode=EmailMode.DIGEST)
    acting(cast.org_drafter, cast.text(title="开启汇总后的项目"), "submit")

    notify.send_digests(now=digest_time())

    [message] = mail.outbox
    assert "开启汇总后的项目" in message.body
    assert "关闭邮件时的项目" not in message.body


def test_a_reader_without_an_address_gets_the_notification_but_no_email(cast, acting):
    text = cast.text()

    acting(cast.org_drafter, text, "submit")

    assert told(text, "submit") == {"org_reviewer"}
    assert mail.outbox == []


def test_a_digest_reader_gets_no_immediate_email(cast, acting):
    with_email(cast.org_reviewer)
    set_preference(cast.org_reviewer, email_mode=EmailMode.DIGEST)
    text = cast.text()

    acting(cast.org_drafter, text, "submit")

    assert told(text, "submit") == {"org_reviewer"}
    assert mail.outbox == []


@pytest.fixture
def digest_reader(cast, acting):
    """org_reviewer reads e-mail as a digest and has been told of two submits."""
    with_email(cast.org_reviewer)
    set_preference(cast.org_reviewer, email_mode=EmailMode.DIGEST)
    texts = [cast.text(title="第一个项目"), cast.text(title="第二个项目")]
    for text in texts:
        acting(cast.org_drafter, text, "submit")
    assert mail.outbox == []
    return texts


def test_the_daily_digest_sends_one_email_listing_everything_pending(cast, digest_reader):
    sent = notify.send_digests(now=digest_time())

    assert sent == 1
    [message] = mail.outbox
    assert message.to == ["org_reviewer@example.org"]
    for text in digest_reader:
        assert f"《{text.title}》" in message.body
        assert link_to(text) in message.body
    assert not Notification.objects.filter(
        recipient=cast.org_reviewer, emailed_at__isnull=True
    ).exists()


def test_a_second_digest_the_same_day_sends_nothing(cast, digest_reader):
    notify.send_digests(now=digest_time())

    again = notify.send_digests(now=digest_time().replace(hour=23))

    assert again == 0
    assert len(mail.outbox) == 1


def test_no_digest_goes_out_before_the_digest_hour(cast, digest_reader):
    early = notify.send_digests(now=digest_time(hour=settings.DIGEST_HOUR - 1))

    assert early == 0
    assert mail.outbox == []
    assert notify.send_digests(now=digest_time()) == 1  # the pending ones were kept for it
    assert len(mail.outbox) == 1


def test_the_digest_is_written_in_the_readers_language(cast, digest_reader):
    set_preference(cast.org_reviewer, language="en")

    notify.send_digests(now=digest_time())

    [message] = mail.outbox
    assert "提交了" not in message.body
    assert "submitted" in message.body


def test_a_digest_reader_with_email_off_gets_no_digest(cast, digest_reader):
    set_preference(cast.org_reviewer, email_enabled=False)

    sent = notify.send_digests(now=digest_time())

    assert sent == 0
    assert mail.outbox == []
