"""The idle limit (SESSION_COOKIE_AGE, two hours by default) counts what the user does, not what
an open page asks for by itself: the header bell's 30 s poll does not renew the session, a page
request does. On the real (database) session backend, with its clock moved by hand."""

from datetime import datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.factories import make_user, sign_in_with_code

BELL = "/notifications/bell/"
HTMX = {"HTTP_HX_REQUEST": "true"}  # what htmx sends with the bell's poll
IDLE_LIMIT = timedelta(hours=2)


class Clock:
    """django.utils.timezone.now, which the session backend reads to set and to check expiry,
    moved forward by the test instead of by sleeping."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def signed_in(client, cast, clock, settings):
    settings.SESSION_COOKIE_AGE = int(IDLE_LIMIT.total_seconds())
    client.force_login(cast.org_drafter)
    return client


def expiry(client) -> datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def signed_in_on_a_page(client) -> bool:
    page = client.get("/")
    assert page.status_code == 200
    return 'class="who"' in page.content.decode()


def test_a_bell_poll_does_not_move_the_session_expiry(signed_in, clock):
    before = expiry(signed_in)
    clock.advance(minutes=30)

    poll = signed_in.get(BELL, **HTMX)

    assert poll.status_code == 200
    assert expiry(signed_in) == before


def test_a_page_request_moves_the_session_expiry_the_idle_limit_ahead(signed_in, clock):
    clock.advance(minutes=30)

    signed_in.get("/texts/")

    assert expiry(signed_in) == clock.now + IDLE_LIMIT


def test_a_tab_that_only_polls_the_bell_is_signed_out_after_two_idle_hours(signed_in, clock):
    polls = int(IDLE_LIMIT / timedelta(seconds=30)) - 1
    for _ in range(polls):
        clock.advance(seconds=30)
        assert signed_in.get(BELL, **HTMX).status_code == 200
    clock.advance(seconds=31)

    assert not signed_in_on_a_page(signed_in)


def test_a_user_who_opens_a_page_within_two_hours_stays_signed_in(signed_in, clock):
    clock.advance(hours=1, minutes=55)
    assert signed_in_on_a_page(signed_in)

    clock.advance(hours=1, minutes=55)

    assert signed_in_on_a_page(signed_in)


def test_a_poll_after_the_session_ended_asks_the_page_to_reload(signed_in, clock):
    clock.advance(hours=2, seconds=1)

    poll = signed_in.get(BELL, **HTMX)

    # The page reloads and so shows the login form, instead of the login form arriving
    # in place of the bell's count.
    assert poll["HX-Refresh"] == "true"
    assert 'name="password"' not in poll.content.decode()


def test_an_operators_health_probe_does_not_renew_their_session(client, db, clock):
    sign_in_with_code(client, make_user("operator", is_staff=True))
    before = expiry(client)
    clock.advance(minutes=30)

    assert "database" in client.get("/healthz").json()

    assert expiry(client) == before
