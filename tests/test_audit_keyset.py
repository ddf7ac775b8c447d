"""The audit events API pages by cursor (issue 12): `{count, next, previous, results}` as the
contract says, `next`/`previous` read from the index after or before an id, and `count`
exact only up to AUDIT_EXACT_COUNT_LIMIT (null beyond)."""

from urllib.parse import parse_qs, urlparse

import pytest

from tests.test_query_counts import text_with_events
from workflow.models import AuditEvent

EVENTS = "/api/v1/audit/events/"


@pytest.fixture
def events(cast) -> list[int]:
    """Seven events of one text, oldest first (the API's order)."""
    text = text_with_events(cast, 7)
    return list(AuditEvent.objects.filter(text=text).order_by("id").values_list("pk", flat=True))


def page(client, url: str, **params) -> dict:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


def ids(body: dict) -> list[int]:
    return [event["id"] for event in body["results"]]


def test_following_next_reads_every_event_once_in_order(cast, api, events):
    client = api(cast.auditor)
    body = page(client, EVENTS, page_size=3, text=str(_text_of(events)))
    seen = ids(body)
    while body["next"]:
        body = page(client, body["next"])
        seen += ids(body)

    assert seen == events


def test_previous_leads_back_to_the_page_before(cast, api, events):
    client = api(cast.auditor)
    first = page(client, EVENTS, page_size=3, text=str(_text_of(events)))
    second = page(client, first["next"])
    back = page(client, second["previous"])

    assert (ids(back), back["previous"]) == (ids(first), None)


def test_the_links_carry_a_cursor_and_keep_the_filters(cast, api, events):
    body = page(api(cast.auditor), EVENTS, page_size=3, text=str(_text_of(events)))
    query = parse_qs(urlparse(body["next"]).query)

    assert (query["cursor"], query["text"], query["page_size"]) == (
        [f"a{events[2]}"],
        [str(_text_of(events))],
        ["3"],
    )


def test_the_count_is_exact_up_to_the_limit(cast, api, events, settings):
    settings.AUDIT_EXACT_COUNT_LIMIT = 7
    body = page(api(cast.auditor), EVENTS, page_size=3, text=str(_text_of(events)))

    assert body["count"] == 7


def test_the_count_is_null_beyond_the_limit(cast, api, events, settings):
    settings.AUDIT_EXACT_COUNT_LIMIT = 6
    body = page(api(cast.auditor), EVENTS, page_size=3, text=str(_text_of(events)))

    assert (body["count"], len(body["results"])) == (None, 3)


@pytest.mark.parametrize("cursor", ["x12", "a", "a-3", "b1.5", "a１２", "a" + "9" * 30])
def test_a_bad_cursor_is_refused_with_400_naming_it(cast, api, events, cursor):
    response = api(cast.auditor).get(EVENTS, {"cursor": cursor})

    assert (response.status_code, list(response.json())) == (400, ["cursor"])


def test_a_page_number_still_pages_by_number_with_an_exact_count(cast, api, events, settings):
    settings.AUDIT_EXACT_COUNT_LIMIT = 2
    body = page(api(cast.auditor), EVENTS, page_size=3, page=2, text=str(_text_of(events)))

    assert (ids(body), body["count"]) == (events[3:6], 7)


def _text_of(events: list[int]) -> int:
    return AuditEvent.objects.get(pk=events[0]).text_id
