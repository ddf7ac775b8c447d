"""The auditors' pages (DESIGN.md, "Pages" and "Audit history"): /audit/ searches, pages,
exports and verifies the log; /audit/texts/<id>/ shows one text's whole history. Auditors
read everything and change nothing: no action buttons, no edit links."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from submissions.models import ProjectText
from tests.factories import act
from tests.tampering import EVENTS as TABLE
from tests.tampering import tamper
from workflow import audit, services
from workflow.exceptions import NotPermitted
from workflow.models import AuditEvent, AuditVerification

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
# The layout's own forms: the language switch and logout.
LAYOUT_POSTS = {"/notifications/language/", "/accounts/logout/"}
# The audit page's one button: verify the log (it changes nothing but keeps the result).
VERIFY_POST = "/audit/verify/"


def page(client, user, url: str, **params):
    client.force_login(user)
    return client.get(url, params)


def row_ids(response) -> list[int]:
    return [row["event"].pk for row in response.context["rows"]]


def refused_dept_approve(cast, text) -> None:
    try:
        act(cast.org_drafter, text, "dept_approve")
    except NotPermitted:
        pass
    else:
        raise AssertionError("a drafter must not approve")


def test_the_audit_page_is_titled_audit_and_lists_events(cast, client):
    text = cast.text_in("dept_review", title="村级组织换届")

    response = page(client, cast.auditor, "/audit/")

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r"<title>[^<]*审计[^<]*</title>", html)
    assert re.search(r"<h1>[^<]*审计[^<]*</h1>", html)
    assert f'href="/audit/texts/{text.pk}/"' in html
    assert "部门审核" in html  # the submit's to-state label
    assert set(row_ids(response)) >= set(
        AuditEvent.objects.filter(text=text).values_list("pk", flat=True)
    )


def test_filtering_by_text_shows_only_that_texts_events(cast, client):
    one, other = cast.text(), cast.text()

    response = page(client, cast.auditor, "/audit/", text=one.pk)

    html = response.content.decode()
    assert response.context["rows"]
    assert {row["event"].text_id for row in response.context["rows"]} == {one.pk}
    assert f'href="/audit/texts/{other.pk}/"' not in html


def test_filtering_by_actor_and_action(cast, client):
    cast.text_in("finance_review")

    by_actor = page(client, cast.auditor, "/audit/", actor="org_reviewer")
    by_action = page(client, cast.auditor, "/audit/", action="submit")

    assert {r["event"].actor_name for r in by_actor.context["rows"]} == {"org_reviewer"}
    assert {r["event"].action for r in by_action.context["rows"]} == {"submit"}


def test_filtering_by_date(cast, client):
    cast.text()
    today = timezone.localdate()

    on_the_day = page(
        client, cast.auditor, "/audit/", since=today.isoformat(), until=today.isoformat()
    )
    tomorrow = page(client, cast.auditor, "/audit/", since=(today + timedelta(1)).isoformat())
    yesterday = page(client, cast.auditor, "/audit/", until=(today - timedelta(1)).isoformat())

    assert on_the_day.context["rows"]
    assert tomorrow.context["rows"] == []
    assert yesterday.context["rows"] == []


def test_an_invalid_filter_is_answered_400_with_the_message(cast, client):
    response = page(client, cast.auditor, "/audit/", since="not-a-date")

    assert response.status_code == 400
    assert "应为日期" in response.content.decode()


def test_a_refused_attempt_appears_marked_refused(cast, client):
    text = cast.text_in("dept_review")
    refused_dept_approve(cast, text)

    response = page(client, cast.auditor, "/audit/", outcome="refused")

    html = response.content.decode()
    assert [r["event"].action for r in response.context["rows"]] == ["dept_approve"]
    assert 'class="event refused"' in html
    assert "被拒绝" in html


def test_the_history_page_shows_refused_attempts_and_field_changes(cast, client):
    text = cast.text_in("dept_review", title="旧标题")
    refused_dept_approve(cast, text)

    response = page(client, cast.auditor, f"/audit/texts/{text.pk}/")

    html = response.content.decode()
    actions = [r["event"].action for r in response.context["rows"]]
    assert actions == ["dept_approve", "submit", "create"]  # newest first
    assert "被拒绝" in html
    assert "旧标题" in html  # the create's change, before → after


def test_the_csv_link_carries_the_filters(cast, client):
    text = cast.text()

    response = page(client, cast.auditor, "/audit/", text=text.pk, action="create")

    link = re.search(r'id="export-csv" href="([^"]+)"', response.content.decode()).group(1)
    url = urlsplit(link.replace("&amp;", "&"))
    assert url.path == "/audit/export.csv"  # the people's CSV; the API's stays for scripts
    assert parse_qs(url.query) == {"text": [str(text.pk)], "action": ["create"]}
    csv = client.get(link.replace("&amp;", "&"))
    assert csv.status_code == 200
    assert b"create" in b"".join(csv.streaming_content)


def test_results_are_paged_50_at_a_time_keeping_the_filters(cast, client):
    for _ in range(51):
        cast.text()

    first = page(client, cast.auditor, "/audit/", action="create")
    html = first.content.decode()
    next_link = re.search(r'<a rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    second = client.get("/audit/" + next_link)

    assert len(first.context["rows"]) == 50
    assert parse_qs(urlsplit(next_link).query) == {"action": ["create"], "page": ["2"]}
    assert len(second.context["rows"]) == 1
    assert "上一页" in second.content.decode()


def test_verify_passes_and_shows_the_newest_checkpoint(
    cast, client, django_capture_on_commit_callbacks
):
    cast.text_in("dept_review")
    with django_capture_on_commit_callbacks(execute=True):  # writes the checkpoint file
        checkpoint = audit.seal()
    audit.verify_and_keep()

    html = page(client, cast.auditor, "/audit/").content.decode()

    assert "校验通过" in html
    assert f"第 {checkpoint.seq} 号" in html
    assert f"封存 {checkpoint.event_count} 条事件" in html


def test_without_a_checkpoint_the_page_says_so(cast, client):
    html = page(client, cast.auditor, "/audit/").content.decode()

    assert "尚无检查点" in html


def test_a_tampered_log_fails_verification_naming_the_event(cast, client):
    text = cast.text_in("returned")
    victim = AuditEvent.objects.filter(text=text, action="return").get()
    tamper(f"UPDATE {TABLE} SET comment = %s WHERE id = %s", ["无意见", victim.pk])
    audit.verify_and_keep()

    html = page(client, cast.auditor, "/audit/").content.decode()

    assert "校验失败" in html
    assert f"#{victim.pk}" in html
    assert "校验通过" not in html


def test_the_page_shows_the_background_verification_and_never_verifies_itself(cast, client):
    cast.text_in("returned")
    audit.verify_and_keep()
    victim = AuditEvent.objects.filter(action="return").get()
    tamper(f"UPDATE {TABLE} SET comment = %s WHERE id = %s", ["无意见", victim.pk])

    html = page(client, cast.auditor, "/audit/").content.decode()

    # The tampering happened after the last verification: the page reports that one.
    assert "校验通过" in html
    assert AuditVerification.objects.count() == 1


def test_before_any_verification_the_page_says_how_to_run_one(cast, client):
    html = page(client, cast.auditor, "/audit/").content.decode()

    assert "尚未校验" in html
    assert "verify_audit" in html


def test_a_texts_history_page_is_paginated(cast, client):
    text = cast.text()
    for n in range(60):
        services.edit_text(
            actor=cast.org_drafter,
            text_id=text.pk,
            version=ProjectText.objects.get(pk=text.pk).version,
            data={"overview": f"第 {n} 次修改"},
        )

    first = page(client, cast.auditor, f"/audit/texts/{text.pk}/")
    second = page(client, cast.auditor, f"/audit/texts/{text.pk}/", page=2)

    events = list(
        AuditEvent.objects.filter(text=text).order_by("-at", "-id").values_list("pk", flat=True)
    )
    assert row_ids(first) == events[:50]
    assert row_ids(second) == events[50:]
    assert "第 1 / 2 页" in first.content.decode()


def test_a_non_auditor_is_refused_403(cast, client):
    for url in ("/audit/", f"/audit/texts/{cast.text().pk}/"):
        response = page(client, cast.org_reviewer, url)
        assert response.status_code == 403
        assert "只有审计人或审计管理员可以查看审计日志" in response.content.decode()


def test_an_unknown_text_is_404(cast, client):
    assert page(client, cast.auditor, "/audit/texts/999999/").status_code == 404


@pytest.mark.parametrize("url", ["/audit/", "/audit/texts/1/"])
def test_an_anonymous_visitor_is_sent_to_log_in(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_auditor_sees_no_action_buttons_and_no_edit_links(cast, client):
    text = cast.text_in("dept_review")

    for url in ("/audit/", f"/audit/texts/{text.pk}/"):
        html = page(client, cast.auditor, url).content.decode()
        posts = re.findall(r'<form[^>]*method="post"[^>]*action="([^"]*)"', html)
        allowed = LAYOUT_POSTS | ({VERIFY_POST} if url == "/audit/" else set())
        assert set(posts) <= allowed, url
        assert "/edit/" not in html
        assert "/act/" not in html
        assert not re.search(r">\s*编辑\s*</a>", html)
        for label in ("提交", "通过", "退回", "批准"):
            assert not re.search(rf"<button[^>]*>\s*{label}", html)


def test_user_text_is_escaped_on_both_pages(cast, client):
    text = cast.text_in("dept_review", title=XSS, basis=XSS)
    act(cast.org_reviewer, text, "return", comment=XSS)

    for url in ("/audit/", f"/audit/texts/{text.pk}/"):
        html = page(client, cast.auditor, url).content.decode()
        assert ESCAPED in html, url
        assert XSS not in html, url


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_results_page_costs_the_same_queries_for_5_and_50_events(cast, client):
    client.force_login(cast.auditor)
    for _ in range(5):
        cast.text()
    few = count_queries(client, "/audit/?action=create")
    for _ in range(45):
        cast.text()

    many = count_queries(client, "/audit/?action=create")

    assert AuditEvent.objects.filter(action="create").count() == 50
    assert many == few
