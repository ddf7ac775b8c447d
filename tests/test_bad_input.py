"""Nothing a client sends gives a 500 (DESIGN.md, "HTTP API": "Never 500 for anything a
client sends"): each bad request gets its documented status (400 naming the field, 404,
409, 413, ...) and changes nothing: no text, revision or audit event appears, and the
text it aimed at is as it was."""

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from submissions.models import ProjectText, Revision
from tests.factories import act, text_fields
from workflow.models import AuditEvent

SAMPLE = Path(__file__).resolve().parents[2] / "shared/data/xinping-2025-org-dept-project-texts.txt"
HUGE_ID = "99999999999999999999999"
TWO_MB = 2 * 1024 * 1024


@pytest.fixture
def client(cast, api) -> APIClient:
    c = api(cast.org_drafter)
    c.raise_request_exception = False
    return c


@pytest.fixture
def text(cast) -> ProjectText:
    return cast.text()


def snapshot() -> tuple[Any, ...]:
    """Everything a bad request must leave as it was."""
    return (
        list(ProjectText.objects.order_by("id").values()),
        Revision.objects.count(),
        AuditEvent.objects.count(),
    )


def send(client: APIClient, method: str, url: str, body: Any, **extra: Any):
    """Send `body` as JSON exactly as a script would: escapes such as "\\ud800" stay escapes
    on the wire (DRF's test renderer would choke on a lone surrogate itself)."""
    if method == "get":
        return client.get(url, **extra)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return getattr(client, method)(url, raw, content_type="application/json", **extra)


def assert_refused(response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    if field is not None:
        assert field in response.json(), response.json()


# --- Content fields: create and edit ---------------------------------------------------------

BAD_FIELDS = [
    # (id, field, value)
    ("title-number", "title", 123),
    ("title-null", "title", None),
    ("title-list", "title", ["新平县"]),
    ("title-object", "title", {"zh": "新平县"}),
    ("title-empty", "title", ""),
    ("title-blank", "title", "   "),
    ("title-too-long", "title", "项" * 201),
    ("title-nul", "title", "新平\x00县"),
    ("title-lone-surrogate", "title", "新平\ud800县"),
    ("basis-number", "basis", 5),
    ("basis-object", "basis", {"a": 1}),
    ("basis-nul", "basis", "依据\x00"),
    ("basis-lone-surrogate", "basis", "依据\udfff"),
    ("outcomes-lone-surrogate-pair-reversed", "outcomes", "\udc00\ud800"),
    ("content-2mb", "content", "内" * TWO_MB),
    ("plan-2mb", "plan", "x" * TWO_MB),
    ("amount-list", "amount", ["1751800.00"]),
    ("amount-object", "amount", {"yuan": 1}),
    ("amount-bool", "amount", True),
    ("amount-null", "amount", None),
    ("amount-negative-string", "amount", "-1.00"),
    ("amount-negative-number", "amount", -5),
    ("amount-abc", "amount", "abc"),
    ("amount-empty", "amount", ""),
    ("amount-20-digits-string", "amount", "12345678901234567890"),
    ("amount-20-digits-number", "amount", 12345678901234567890),
    ("amount-13-digits", "amount", "1000000000000.00"),
    ("amount-30-digits", "amount", "9" * 30),
    ("amount-exponent-30", "amount", "1e30"),
    ("amount-exponent-huge", "amount", "1e999999"),
    ("amount-three-places", "amount", "1.234"),
    ("amount-three-places-number", "amount", 1.234),
    ("amount-nan", "amount", "NaN"),
    ("amount-snan", "amount", "sNaN"),
    ("amount-infinity", "amount", "Infinity"),
    ("amount-minus-infinity", "amount", "-Infinity"),
    ("amount-arabic-indic-digits", "amount", "٣٠٠"),
    ("amount-devanagari-digits", "amount", "१००"),
    ("amount-fullwidth-digits", "amount", "９９"),
    ("amount-underscore", "amount", "1_000"),
    ("amount-stray-commas", "amount", ",,5,,"),
    ("amount-misgrouped-commas", "amount", "1,23,456"),
    ("amount-plus-sign", "amount", "+5"),
    ("amount-negative-zero-string", "amount", "-0"),
    ("fiscal-year-abc", "fiscal_year", "abc"),
    ("fiscal-year-string", "fiscal_year", "2025"),
    ("fiscal-year-float", "fiscal_year", 2025.5),
    ("fiscal-year-bool", "fiscal_year", True),
    ("fiscal-year-null", "fiscal_year", None),
    ("fiscal-year-too-small", "fiscal_year", 1999),
    ("fiscal-year-too-large", "fiscal_year", 2101),
    ("fiscal-year-huge", "fiscal_year", 10**30),
    ("fiscal-year-list", "fiscal_year", [2025]),
]


@pytest.mark.parametrize(
    ("field", "value"), [b[1:] for b in BAD_FIELDS], ids=[b[0] for b in BAD_FIELDS]
)
def test_creating_with_a_bad_field_is_400_naming_it(client, field, value):
    before = snapshot()

    response = send(client, "post", "/api/v1/texts/", {**text_fields(), field: value})

    assert_refused(response, 400, field)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("field", "value"), [b[1:] for b in BAD_FIELDS], ids=[b[0] for b in BAD_FIELDS]
)
def test_editing_with_a_bad_field_is_400_naming_it(client, text, field, value):
    before = snapshot()

    response = send(
        client, "patch", f"/api/v1/texts/{text.pk}/", {"version": text.version, field: value}
    )

    assert_refused(response, 400, field)
    assert snapshot() == before


UNKNOWN_FIELDS = ["state", "version_seen", "revision", "id", "created_by", "authors", "bogus"]


@pytest.mark.parametrize("field", UNKNOWN_FIELDS)
def test_creating_with_an_unknown_field_is_400_naming_it(client, field):
    before = snapshot()

    response = send(client, "post", "/api/v1/texts/", {**text_fields(), field: "approved"})

    assert_refused(response, 400, field)
    assert snapshot() == before


@pytest.mark.parametrize("field", [*UNKNOWN_FIELDS, "department"])
def test_editing_with_an_unknown_field_is_400_naming_it(client, text, field):
    before = snapshot()

    response = send(
        client, "patch", f"/api/v1/texts/{text.pk}/", {"version": text.version, field: "x"}
    )

    assert_refused(response, 400, field)
    assert snapshot() == before


@pytest.mark.parametrize("field", ["title", "fiscal_year"])
def test_creating_without_a_required_field_is_400_naming_it(client, field):
    before = snapshot()
    body = text_fields()
    del body[field]

    response = send(client, "post", "/api/v1/texts/", body)

    assert_refused(response, 400, field)
    assert snapshot() == before


BAD_DEPARTMENTS = [
    ("unknown", "nope"),
    ("number", 123),
    ("list", ["org"]),
    ("object", {"code": "org"}),
    ("nul", "org\x00"),
    ("lone-surrogate", "org\ud800"),
    ("huge", "d" * 10_000),
]


@pytest.mark.parametrize(
    "value", [b[1] for b in BAD_DEPARTMENTS], ids=[b[0] for b in BAD_DEPARTMENTS]
)
def test_creating_in_a_bad_department_is_400_naming_it(client, value):
    before = snapshot()

    response = send(client, "post", "/api/v1/texts/", {**text_fields(), "department": value})

    assert_refused(response, 400, "department")
    assert snapshot() == before


BAD_VERSIONS = [
    ("string", "1"),
    ("float", 1.0),
    ("bool", True),
    ("null", None),
    ("list", [1]),
    ("object", {"v": 1}),
]


@pytest.mark.parametrize("version", [b[1] for b in BAD_VERSIONS], ids=[b[0] for b in BAD_VERSIONS])
def test_editing_with_a_version_that_is_not_an_integer_is_400(client, text, version):
    before = snapshot()

    response = send(
        client, "patch", f"/api/v1/texts/{text.pk}/", {"version": version, "title": "新"}
    )

    assert_refused(response, 400, "version")
    assert snapshot() == before


def test_editing_without_a_version_is_400(client, text):
    before = snapshot()

    response = send(client, "patch", f"/api/v1/texts/{text.pk}/", {"title": "新"})

    assert_refused(response, 400, "version")
    assert snapshot() == before


def test_editing_with_a_huge_version_is_a_stale_409(client, text):
    response = send(
        client, "patch", f"/api/v1/texts/{text.pk}/", {"version": 10**30, "title": "新"}
    )

    assert_refused(response, 409)
    assert ProjectText.objects.get(pk=text.pk).title == text.title


# --- Actions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [b[1] for b in BAD_VERSIONS], ids=[b[0] for b in BAD_VERSIONS])
def test_an_action_with_a_version_that_is_not_an_integer_is_400(client, text, version):
    before = snapshot()

    response = send(
        client, "post", f"/api/v1/texts/{text.pk}/actions/submit/", {"version": version}
    )

    assert_refused(response, 400, "version")
    assert snapshot() == before


BAD_ACTION_BODIES = [
    # (id, action, body besides the version, field named)
    ("comment-list", "submit", {"comment": ["好"]}, "comment"),
    ("comment-number", "submit", {"comment": 5}, "comment"),
    ("comment-nul", "submit", {"comment": "好\x00"}, "comment"),
    ("comment-lone-surrogate", "submit", {"comment": "好\ud800"}, "comment"),
    ("comment-too-long", "submit", {"comment": "好" * 5001}, "comment"),
    ("comment-2mb", "submit", {"comment": "好" * TWO_MB}, "comment"),
    ("section-unknown", "submit", {"section": "nope"}, "section"),
    ("section-list", "submit", {"section": ["funding"]}, "section"),
    ("section-object", "submit", {"section": {"funding": 1}}, "section"),
    ("section-nul", "submit", {"section": "funding\x00"}, "section"),
]


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [b[1:] for b in BAD_ACTION_BODIES],
    ids=[b[0] for b in BAD_ACTION_BODIES],
)
def test_an_action_with_a_bad_field_is_400_naming_it(client, text, action, body, field):
    before = snapshot()

    response = send(
        client,
        "post",
        f"/api/v1/texts/{text.pk}/actions/{action}/",
        {"version": text.version, **body},
    )

    assert_refused(response, 400, field)
    assert snapshot() == before


def test_a_return_with_a_lone_surrogate_reason_is_400(cast, api):
    """A reviewer's reason goes into a decision and an audit event: it must be text the
    database can store."""
    text = cast.text()
    act(cast.org_drafter, text, "submit")
    text = ProjectText.objects.get(pk=text.pk)
    reviewer = api(cast.org_reviewer)
    reviewer.raise_request_exception = False
    before = snapshot()

    response = send(
        reviewer,
        "post",
        f"/api/v1/texts/{text.pk}/actions/return/",
        {"version": text.version, "comment": "请补充\udc80"},
    )

    assert_refused(response, 400, "comment")
    assert snapshot() == before


def test_a_stale_action_with_a_lone_surrogate_comment_is_not_a_500(client, text):
    """A refused attempt is recorded with its comment: a comment the database cannot store
    must be refused as input before that."""
    before = snapshot()

    response = send(
        client,
        "post",
        f"/api/v1/texts/{text.pk}/actions/submit/",
        {"version": text.version + 1, "comment": "\ud800"},
    )

    assert_refused(response, 400, "comment")
    assert snapshot() == before


@pytest.mark.parametrize("action", ["fly", "SUBMIT", "submit ", "return_to_drafter", "x" * 500])
def test_an_unknown_action_is_400_or_404(client, text, action):
    before = snapshot()

    response = send(
        client, "post", f"/api/v1/texts/{text.pk}/actions/{action}/", {"version": text.version}
    )

    assert response.status_code in (400, 404), response.status_code
    assert snapshot() == before


# --- Bodies that are not a JSON object -------------------------------------------------------

NOT_AN_OBJECT = [
    ("invalid-json", b'{"title": '),
    ("trailing-garbage", b'{"title": "a"} x'),
    ("list", b'[{"title": "a"}]'),
    ("string", b'"title"'),
    ("number", b"5"),
    ("null", b"null"),
    ("non-utf8", b'{"title": "\xff\xfe\xc3\x28"}'),
    ("gb18030", '{"title": "新平县"}'.encode("gb18030")),
    ("utf16", '{"title": "a"}'.encode("utf-16")),
    ("bare-nan", b'{"title": "a", "fiscal_year": 2025, "amount": NaN}'),
    ("bare-infinity", b'{"title": "a", "fiscal_year": 2025, "amount": Infinity}'),
    ("deeply-nested", b"[" * 100_000 + b"]" * 100_000),
    ("deeply-nested-field", b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    ("empty", b""),
]

BODY_TARGETS = [
    ("create", "post", "/api/v1/texts/"),
    ("edit", "patch", "/api/v1/texts/{id}/"),
    ("action", "post", "/api/v1/texts/{id}/actions/submit/"),
]


@pytest.mark.parametrize(
    ("method", "url"), [t[1:] for t in BODY_TARGETS], ids=[t[0] for t in BODY_TARGETS]
)
@pytest.mark.parametrize("raw", [b[1] for b in NOT_AN_OBJECT], ids=[b[0] for b in NOT_AN_OBJECT])
def test_a_body_that_is_not_a_json_object_is_400(client, text, method, url, raw):
    before = snapshot()

    response = send(client, method, url.format(id=text.pk), raw)

    assert_refused(response, 400)
    assert snapshot() == before


@pytest.mark.parametrize("literal", [b"1e400", b"-1e400", b"1e999999999"])
def test_an_amount_number_too_large_for_a_float_is_400_naming_amount(client, text, literal):
    before = snapshot()
    body = (
        json.dumps({"version": text.version, "amount": 0}).encode().replace(b"0}", literal + b"}")
    )

    response = send(client, "patch", f"/api/v1/texts/{text.pk}/", body)

    assert_refused(response, 400, "amount")
    assert snapshot() == before


def test_a_body_of_the_wrong_media_type_is_415(client):
    before = snapshot()

    response = client.post("/api/v1/texts/", json.dumps(text_fields()), content_type="text/plain")

    assert_refused(response, 415)
    assert snapshot() == before


# --- Sizes -----------------------------------------------------------------------------------


def test_a_body_over_the_request_limit_is_413(client, settings):
    before = snapshot()
    body = json.dumps({**text_fields(), "content": "x" * (settings.MAX_REQUEST_BYTES + 1)})

    response = send(client, "post", "/api/v1/texts/", body.encode())

    assert_refused(response, 413)
    assert snapshot() == before


@override_settings(MAX_REQUEST_BYTES=1000)
def test_a_body_over_a_lowered_request_limit_is_413(client, text):
    before = snapshot()

    response = send(
        client,
        "patch",
        f"/api/v1/texts/{text.pk}/",
        {"version": text.version, "plan": "x" * 2000},
    )

    assert_refused(response, 413)
    assert snapshot() == before


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", ""])
def test_a_bad_content_length_is_4xx(client, length):
    before = snapshot()

    response = client.post(
        "/api/v1/texts/",
        json.dumps(text_fields()),
        content_type="application/json",
        CONTENT_LENGTH=length,
    )

    assert 400 <= response.status_code < 500, response.status_code
    assert snapshot() == before


# --- Ids in URLs -----------------------------------------------------------------------------

BAD_IDS = ["abc", "1.5", "-1", "1e3", "０１", "%00", "1%20", HUGE_ID, "9223372036854775808"]
ID_URLS = [
    ("get", "/api/v1/texts/{id}/"),
    ("patch", "/api/v1/texts/{id}/"),
    ("post", "/api/v1/texts/{id}/actions/submit/"),
    ("get", "/api/v1/texts/{id}/history/"),
    ("get", "/api/v1/texts/{id}/revisions/"),
    ("get", "/api/v1/texts/{id}/revisions/1/diff/"),
    ("get", "/api/v1/texts/{id}/export.docx"),
]


@pytest.mark.parametrize(("method", "url"), ID_URLS, ids=[f"{m}-{u[13:]}" for m, u in ID_URLS])
@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_a_bad_or_unknown_text_id_is_404(client, text, method, url, bad_id):
    before = snapshot()

    response = send(client, method, url.format(id=bad_id), {"version": 1, "title": "新"})

    assert_refused(response, 404)
    assert snapshot() == before


@pytest.mark.parametrize("number", ["abc", "0", HUGE_ID, "9223372036854775808"])
def test_a_bad_or_unknown_revision_number_is_404(client, text, number):
    response = client.get(f"/api/v1/texts/{text.pk}/revisions/{number}/diff/?against=1")

    assert_refused(response, 404)


@pytest.mark.parametrize(
    ("against", "status"),
    [("abc", 400), ("-1", 400), ("1.5", 400), ("²", 400), (HUGE_ID, 404), ("", 400)],
)
def test_a_bad_against_revision_is_4xx(cast, api, against, status):
    text = cast.text()
    act(cast.org_drafter, text, "submit")
    client = api(cast.org_drafter)
    client.raise_request_exception = False

    response = client.get(f"/api/v1/texts/{text.pk}/revisions/1/diff/", {"against": against})

    assert_refused(response, status)


# --- Query parameters ------------------------------------------------------------------------

TEXT_LIST_PARAMS = [
    ("page-abc", {"page": "abc"}, 404),
    ("page-zero", {"page": "0"}, 404),
    ("page-negative", {"page": "-1"}, 404),
    ("page-past-the-end", {"page": "99999"}, 404),
    ("page-huge", {"page": HUGE_ID}, 404),
    ("page-size-negative", {"page_size": "-1"}, 400),
    ("page-size-abc", {"page_size": "abc"}, 400),
    ("fiscal-year-abc", {"fiscal_year": "abc"}, 400),
    ("fiscal-year-float", {"fiscal_year": "2025.5"}, 400),
    ("fiscal-year-underscore", {"fiscal_year": "2_025"}, 400),
    ("q-longer-than-sqlite-takes", {"q": "换" * 50_001}, 400),
    ("fiscal-year-arabic-indic-digits", {"fiscal_year": "٢٠٢٥"}, 400),
    ("fiscal-year-padded", {"fiscal_year": " 2025"}, 400),
    ("fiscal-year-huge", {"fiscal_year": HUGE_ID}, 400),
    ("state-unknown", {"state": "flying"}, 400),
    ("state-nul", {"state": "draft\x00"}, 400),
]


@pytest.mark.parametrize(
    ("params", "status"), [p[1:] for p in TEXT_LIST_PARAMS], ids=[p[0] for p in TEXT_LIST_PARAMS]
)
def test_a_bad_text_list_parameter_is_its_documented_4xx(client, text, params, status):
    response = client.get("/api/v1/texts/", params)

    assert_refused(response, status, next(iter(params)) if status == 400 else None)


ODD_BUT_HARMLESS_PARAMS = [
    ("page-size-huge", {"page_size": HUGE_ID}),
    ("department-nul", {"department": "org\x00"}),
    ("department-unknown", {"department": "nope"}),
    ("q-nul", {"q": "新平\x00"}),
    ("q-long", {"q": "新" * 10_000}),
    ("q-percent", {"q": "%_\\"}),
]


@pytest.mark.parametrize(
    "params", [p[1] for p in ODD_BUT_HARMLESS_PARAMS], ids=[p[0] for p in ODD_BUT_HARMLESS_PARAMS]
)
def test_an_odd_text_list_parameter_is_answered_without_a_500(client, text, params):
    response = client.get("/api/v1/texts/", params)

    assert response.status_code in (200, 400), response.status_code


# (id, params, acceptable statuses): a filter that matches nothing may answer 200 (empty)
# or 400; never 500.
AUDIT_PARAMS = [
    ("since-not-a-date", {"since": "not-a-date"}, (400,)),
    ("since-impossible-date", {"since": "2025-13-45"}, (400,)),
    ("since-impossible-time", {"since": "2025-03-01T25:61:00"}, (400,)),
    ("since-bad-offset", {"since": "2025-03-01T10:00:00+99:00"}, (400,)),
    ("until-not-a-date", {"until": "yesterday"}, (400,)),
    ("since-year-one", {"since": "0001-01-01"}, (200, 400)),
    ("since-year-one-time", {"since": "0001-01-01T00:00:00+14:00"}, (200, 400)),
    ("until-year-9999", {"until": "9999-12-31"}, (200, 400)),
    ("text-abc", {"text": "abc"}, (400,)),
    ("text-underscore", {"text": "1_0"}, (400,)),
    ("since-offset-beyond-postgres", {"since": "2025-03-01T10:00:00+16:00"}, (200,)),
    ("until-offset-beyond-postgres", {"until": "2025-03-01T10:00:00-23:59"}, (200,)),
    ("text-huge", {"text": HUGE_ID}, (200, 400)),
    ("page-abc", {"page": "abc"}, (404,)),
    ("page-size-negative", {"page_size": "-1"}, (400,)),
    ("actor-nul", {"actor": "auditor\x00"}, (200, 400)),
    ("action-nul", {"action": "submit\x00"}, (200, 400)),
    ("department-nul", {"department": "org\x00"}, (200, 400)),
    ("outcome-nul", {"outcome": "ok\x00"}, (200, 400)),
]


def assert_audit_answer(response, params: dict[str, str], statuses: tuple[int, ...]) -> None:
    assert response.status_code in statuses, response.status_code
    if response.status_code == 400:
        assert next(iter(params)) in response.json()


@pytest.mark.parametrize(
    ("params", "statuses"), [p[1:] for p in AUDIT_PARAMS], ids=[p[0] for p in AUDIT_PARAMS]
)
def test_a_bad_audit_event_parameter_is_answered_without_a_500(cast, api, params, statuses):
    client = api(cast.auditor)
    client.raise_request_exception = False

    response = client.get("/api/v1/audit/events/", params)

    assert_audit_answer(response, params, statuses)


EXPORT_PARAMS = [p for p in AUDIT_PARAMS if not {"page", "page_size"} & set(p[1])]


@pytest.mark.parametrize(
    ("params", "statuses"), [p[1:] for p in EXPORT_PARAMS], ids=[p[0] for p in EXPORT_PARAMS]
)
def test_a_bad_audit_export_parameter_is_answered_without_a_500(cast, api, params, statuses):
    client = api(cast.auditor)
    client.raise_request_exception = False

    response = client.get("/api/v1/audit/export.csv", params)
    if response.status_code == 200:
        # The rows are read while streaming, after the status was sent: a failure there
        # would be a truncated file with a 200.
        assert b"".join(response.streaming_content).startswith("\ufeff".encode())

    assert_audit_answer(response, params, statuses)


def test_an_audit_export_with_an_offset_postgres_cannot_hold_has_every_row(cast, api):
    cast.text()

    response = api(cast.auditor).get(
        "/api/v1/audit/export.csv", {"since": "2000-01-01T00:00:00+16:00"}
    )

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 1 + AuditEvent.objects.count()


@pytest.mark.parametrize("amount", [-0.0, "0", "0.00元"])
def test_a_zero_amount_is_stored_and_audited_as_zero(client, amount):
    response = send(
        client, "post", "/api/v1/texts/", {"title": "零", "fiscal_year": 2025, "amount": amount}
    )

    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "0.00"
    created = AuditEvent.objects.get(text_id=response.json()["id"], action="create")
    assert created.changes["amount"] == [None, "0.00"]


def test_an_amount_written_as_the_pages_show_it_is_accepted(client, text):
    response = send(
        client,
        "patch",
        f"/api/v1/texts/{text.pk}/",
        {"version": text.version, "amount": "2,345,678.90元"},
    )

    assert response.status_code == 200, response.content
    assert response.json()["amount"] == "2345678.90"


# --- Import ----------------------------------------------------------------------------------


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def _upload(client: APIClient, name: str, data: bytes):
    return client.post(
        "/api/v1/texts/import/", {"file": SimpleUploadedFile(name, data)}, format="multipart"
    )


BAD_UPLOADS = [
    ("garbage-txt", "texts.txt", bytes(range(256)) * 20),
    ("non-utf8-txt", "texts.txt", b"\xff\xfe\xfd" * 300),
    ("utf16-txt", "texts.txt", SAMPLE.read_bytes().decode().encode("utf-16")),
    ("png-as-docx", "texts.docx", _png()),
    ("png-as-txt", "texts.txt", _png()),
    ("zip-not-docx", "texts.docx", b"PK\x05\x06" + b"\x00" * 18),
    ("truncated-docx-header", "texts.docx", b"PK\x03\x04" + b"\x00" * 100),
    ("empty-txt", "texts.txt", b""),
    ("empty-docx", "texts.docx", b""),
    ("pdf", "texts.pdf", b"%PDF-1.4\n%%EOF\n"),
    ("no-extension", "texts", SAMPLE.read_bytes()),
    ("plain-text-not-in-format", "notes.txt", "这不是项目文本。\n第二行。".encode()),
]


@pytest.mark.parametrize(
    ("name", "data"), [u[1:] for u in BAD_UPLOADS], ids=[u[0] for u in BAD_UPLOADS]
)
def test_a_bad_upload_is_400_with_a_message(client, name, data):
    before = snapshot()

    response = _upload(client, name, data)

    assert_refused(response, 400, "file")
    assert response.json()["file"][0]
    assert snapshot() == before


def test_an_import_without_a_file_is_400_with_a_message(client):
    before = snapshot()

    response = client.post("/api/v1/texts/import/", {"other": "x"}, format="multipart")

    assert_refused(response, 400, "file")
    assert snapshot() == before


def test_an_import_with_file_as_a_plain_field_is_400(client):
    before = snapshot()

    response = client.post("/api/v1/texts/import/", {"file": "texts.txt"}, format="multipart")

    assert_refused(response, 400, "file")
    assert snapshot() == before


def test_an_import_sent_as_json_is_415(client):
    before = snapshot()

    response = send(client, "post", "/api/v1/texts/import/", {"file": "x"})

    assert_refused(response, 415)
    assert snapshot() == before


@override_settings(IMPORT_MAX_BYTES=1000)
def test_an_upload_over_the_import_limit_is_413_with_a_message(client):
    before = snapshot()

    response = _upload(client, "texts.txt", SAMPLE.read_bytes())

    assert_refused(response, 413)
    assert response.json()["detail"]
    assert snapshot() == before


def test_an_import_naming_a_department_the_uploader_does_not_draft_for_creates_nothing(
    cast, client
):
    before = snapshot()
    data = SAMPLE.read_bytes().decode().replace(cast.org.name, cast.edu.name).encode()

    response = _upload(client, "texts.txt", data)

    assert_refused(response, 400, "file")
    assert snapshot() == before


def test_an_import_whose_second_text_is_broken_creates_nothing(client):
    before = snapshot()
    lines = SAMPLE.read_bytes().decode().split("\n")
    broken = "\n".join(line for line in lines if "七、项目实施计划" not in line)

    response = _upload(client, "texts.txt", broken.encode())

    assert_refused(response, 400, "file")
    assert snapshot() == before


# --- Token login -----------------------------------------------------------------------------

BAD_LOGINS = [
    ("nul-username", {"username": "org_drafter\x00", "password": "x"}),
    ("lone-surrogate-username", {"username": "org\ud800", "password": "x"}),
    ("lone-surrogate-password", {"username": "org_drafter", "password": "\ud800"}),
    ("list-username", {"username": ["org_drafter"], "password": "x"}),
    ("missing-password", {"username": "org_drafter"}),
]


@pytest.mark.parametrize("body", [b[1] for b in BAD_LOGINS], ids=[b[0] for b in BAD_LOGINS])
def test_a_bad_token_login_is_400(cast, body):
    client = APIClient()
    client.raise_request_exception = False

    response = send(client, "post", "/api/v1/auth/token/", body)

    assert_refused(response, 400)
