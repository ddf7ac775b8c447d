"""The notification pages: the list under the bell, the bell's htmx fragment, marking read,
and the e-mail preferences."""

import re

import pytest

from notifications.models import Notification, Preference
from tests.factories import act

# The bell answers with itself, still polling (it replaces the element that asked).
BELL = re.compile(
    r'^<span class="count" id="unread-count" hx-get="/notifications/bell/" [^>]*>(\d+)</span>$'
)


@pytest.fixture
def submitted(cast, django_capture_on_commit_callbacks):
    """A text org_drafter submitted, with its notification delivered to org_reviewer."""
    text = cast.text(title="村级组织换届工作经费")
    with django_capture_on_commit_callbacks(execute=True):
        act(cast.org_drafter, text, "submit")
    return text


def bell_count(client) -> int:
    response = client.get("/notifications/bell/")
    assert response.status_code == 200
    return int(BELL.match(response.content.decode().strip()).group(1))


def test_a_reviewer_sees_the_submit_notification_in_chinese_with_a_link(cast, client, submitted):
    client.force_login(cast.org_reviewer)

    html = client.get("/notifications/").content.decode()

    assert "org_drafter 提交了《村级组织换届工作经费》，等待部门审核。" in html
    assert f'href="/texts/{submitted.pk}/"' in html
    assert 'class="notification unread"' in html
    assert "标为已读" in html


def test_marking_read_lowers_the_bell_count(cast, client, submitted):
    client.force_login(cast.org_reviewer)
    notification = Notification.objects.get(recipient=cast.org_reviewer)
    assert bell_count(client) == 1

    response = client.post(f"/notifications/{notification.pk}/read/")

    assert response.status_code == 302
    assert bell_count(client) == 0
    assert 'class="notification unread"' not in client.get("/notifications/").content.decode()


def test_marking_all_read(cast, client, submitted):
    client.force_login(cast.org_reviewer)

    response = client.post("/notifications/", {"all": "1"})

    assert response.status_code == 302
    assert bell_count(client) == 0


def test_someone_elses_notification_is_404(cast, client, submitted):
    notification = Notification.objects.get(recipient=cast.org_reviewer)
    client.force_login(cast.edu_reviewer)

    response = client.post(f"/notifications/{notification.pk}/read/")

    assert response.status_code == 404
    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_marking_read_needs_post(cast, client, submitted):
    notification = Notification.objects.get(recipient=cast.org_reviewer)
    client.force_login(cast.org_reviewer)

    assert client.get(f"/notifications/{notification.pk}/read/").status_code == 405


def test_the_preferences_form_saves(cast, client):
    client.force_login(cast.org_reviewer)

    response = client.post(
        "/notifications/preferences/", {"email_mode": "digest", "language": "en"}
    )

    assert response.status_code == 302
    preference = Preference.objects.get(user=cast.org_reviewer)
    assert (preference.email_enabled, preference.email_mode, preference.language) == (
        False,
        "digest",
        "en",
    )
    html = client.get("/notifications/preferences/").content.decode()
    assert 'value="digest" selected' in html


def test_the_preferences_form_rejects_invalid_values_with_400(cast, client):
    client.force_login(cast.org_reviewer)

    response = client.post(
        "/notifications/preferences/",
        {"email_enabled": "on", "email_mode": "weekly", "language": "fr"},
    )

    assert response.status_code == 400
    assert "取值无效" in response.content.decode()
    assert not Preference.objects.filter(user=cast.org_reviewer, email_mode="weekly").exists()


@pytest.mark.parametrize(
    "url",
    ["/notifications/", "/notifications/bell/", "/notifications/preferences/"],
)
def test_an_anonymous_visitor_is_sent_to_log_in(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_anonymous_post_to_mark_read_is_sent_to_log_in(client, db):
    response = client.post("/notifications/1/read/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_bells_answer_keeps_polling(cast, client):
    client.force_login(cast.org_reviewer)

    html = client.get("/notifications/bell/").content.decode()

    # It replaces the element that polled: without its own trigger the bell would go quiet.
    assert 'hx-trigger="every 30s"' in html
    assert 'hx-swap="outerHTML"' in html
