"""The auditor's pages as people use them (issue 9): newest first, searched by title words,
user, action, outcome and dates; names instead of codes; each change field by field; a CSV
for people with the codes kept for scripts; a verify button; a styled 403; a fixed number
of queries however many events a page shows."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from submissions.models import ProjectText
from tests.factories import act, make_user
from workflow import services
from workflow.exceptions import NotPermitted
from workflow.models import AuditEvent, AuditVerification
from workflow.selectors import audit as audit_selectors
from workflow.services import give_delegation

LONG_CONTENT = "1.切实加强党的领导。" * 20


def get(client, user, url: str, **params):
    client.force_login(user)
    return client.get(url, params)


def actions_on(response) -> list[str]:
    return [row.event.action for row in response.context["rows"]]


def edit(cast, text, **data) -> None:
    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=ProjectText.objects.get(pk=text.pk).version,
        data=data,
    )


def export(client, user, **params) -> tuple[bytes, list[dict[str, str]]]:
    response = get(client, user, "/audit/export.csv", **params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content)
    return raw, list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


# --- Newest first ----------------------------------------------------------------------------


def test_the_search_page_lists_the_newest_event_first(cast, client):
    text = cast.text_in("finance_review")

    response = get(client, cast.auditor, "/audit/", text=text.pk)

    assert actions_on(response) == ["dept_approve", "submit", "create"]


def test_a_texts_history_page_lists_the_newest_event_first(cast, client):
    text = cast.text_in("returned")

    response = get(client, cast.auditor, f"/audit/texts/{text.pk}/")

    assert actions_on(response) == ["return", "submit", "create"]


def test_the_api_history_stays_oldest_first(cast, api):
    text = cast.text_in("returned")

    history = api(cast.auditor).get(f"/api/v1/texts/{text.pk}/history/").json()["results"]

    assert [event["action"] for event in history] == ["create", "submit", "return"]


# --- Each filter ------------------------------------------------------------------------------


def test_searching_by_words_of_the_title_finds_texts_holding_all_of_them(cast, client):
    wanted = cast.text(title="新平县村级组织换届工作经费")
    cast.text(title="新平县教师培训经费")

    response = get(client, cast.auditor, "/audit/", title="村级  经费")

    assert {row.event.text_id for row in response.context["rows"]} == {wanted.pk}


def test_searching_by_user_finds_a_username_in_part(cast, client):
    cast.text_in("finance_review")

    response = get(client, cast.auditor, "/audit/", actor="REVIEW")

    assert actions_on(response)
    assert {row.event.actor_name for row in response.context["rows"]} == {"org_reviewer"}


def test_searching_by_user_finds_a_full_name(cast, client):
    cast.org_reviewer.last_name, cast.org_reviewer.first_name = "张", "三"
    cast.org_reviewer.save()
    cast.text_in("finance_review")

    response = get(client, cast.auditor, "/audit/", actor="张三")

    assert actions_on(response) == ["dept_approve"]


def test_searching_by_action_uses_the_closed_vocabulary_by_its_label(cast, client):
    cast.text_in("returned")

    response = get(client, cast.auditor, "/audit/", action="return")

    html = response.content.decode()
    assert actions_on(response) == ["return"]
    assert '<option value="return" selected>退回</option>' in html
    assert '<option value="grant_role">授予角色</option>' in html
    assert '<option value="dept_approve">部门审核通过</option>' in html


def test_searching_by_outcome_finds_refused_attempts(cast, client):
    text = cast.text_in("dept_review")
    with pytest.raises(NotPermitted):
        act(cast.org_drafter, text, "dept_approve")

    response = get(client, cast.auditor, "/audit/", outcome="refused")

    assert actions_on(response) == ["dept_approve"]
    assert 'class="event refused"' in response.content.decode()


def test_searching_by_date_range_keeps_the_days_inside(cast, client):
    cast.text()
    today = timezone.localdate()

    inside = get(client, cast.auditor, "/audit/", since=today, until=today)
    later = get(client, cast.auditor, "/audit/", since=today + timedelta(days=1))

    assert "create" in actions_on(inside)
    assert actions_on(later) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2025-13-01"}, "起始日期"),
        ({"until": "yesterday"}, "截止日期"),
        ({"since": "2025-06-02", "until": "2025-06-01"}, "截止日期"),
        ({"action": "delete_everything"}, "操作"),
        ({"outcome": "maybe"}, "结果"),
        ({"department": "nowhere"}, "部门"),
        ({"text": "abc"}, "项目文本编号"),
        ({"title": "经费" * 101}, "项目名称"),
    ],
)
def test_a_bad_filter_is_400_with_a_message_naming_the_field(cast, client, params, field):
    response = get(client, cast.auditor, "/audit/", **params)

    html = response.content.decode()
    assert response.status_code == 400
    summary = re.search(r'<div class="alert alert-danger error-summary".*?</div>', html, re.S)
    assert summary, html
    link = re.search(rf'<a href="#f-(\w+)">{field}[^<]*</a>', summary.group(0))
    assert link
    assert f'aria-describedby="e-{link.group(1)}"' in html  # marked at the field too
    assert f'<div class="invalid-feedback" id="e-{link.group(1)}">' in html
    assert response.context["rows"] == []


def test_a_bad_filter_on_the_export_is_400_on_the_page(cast, client):
    response = get(client, cast.auditor, "/audit/export.csv", since="not-a-date")

    assert response.status_code == 400
    assert "起始日期" in response.content.decode()


# --- Names, not codes -------------------------------------------------------------------------


def test_departments_people_and_stages_are_shown_by_name(cast, client):
    cast.org_reviewer.last_name, cast.org_reviewer.first_name = "李", "审核"
    cast.org_reviewer.save()
    cast.text_in("finance_review", title="村级组织换届")

    html = get(client, cast.auditor, "/audit/").content.decode()

    assert "中共新平彝族傣族自治县委员会组织部" in html
    assert ">org<" not in html
    assert "李审核（org_reviewer）" in html
    assert "部门审核 → " in html and "财政审核" in html
    assert "村级组织换届" in html
    assert "dept_review" not in re.sub(r'(value|data-field|class)="[^"]*"', "", html)


def test_a_role_grant_names_the_role_and_the_person(cast, client):
    html = get(client, cast.auditor, "/audit/", action="grant_role").content.decode()

    assert "部门审核人" in html
    assert "角色：dept_reviewer" not in html


# --- The change view --------------------------------------------------------------------------


def test_the_history_shows_each_changed_field_with_its_label_before_and_after(cast, client):
    text = cast.text()
    edit(cast, text, amount="1651800.00", plan="项目于2025年10月开展。")

    response = get(client, cast.auditor, f"/audit/texts/{text.pk}/")

    html = response.content.decode()
    change = re.search(r'<li class="change" data-field="amount">(.*?)</li>', html, re.S).group(1)
    assert "金额（元）" in change
    assert "1,751,800.00元" in change and "1,651,800.00元" in change
    plan = re.search(r'<li class="change" data-field="plan">(.*?)</li>', html, re.S).group(1)
    assert "项目实施计划" in plan
    assert '<span class="before">项目于2025年9月开展。</span>' in plan


def test_long_section_text_is_a_collapsed_diff_not_a_column(cast, client):
    text = cast.text(content=LONG_CONTENT)
    edit(cast, text, content=LONG_CONTENT.replace("领导", "全面领导", 1))

    html = get(client, cast.auditor, f"/audit/texts/{text.pk}/").content.decode()

    change = re.search(r'<li class="change" data-field="content">(.*?)</li>', html, re.S)
    assert change
    body = change.group(1)
    assert "<details>" in body
    assert "项目实施内容" in body
    assert "<ins>全面</ins>" in body
    assert "增 2 字，删 0 字" in body


def test_unchanged_text_far_from_a_change_is_left_out(cast, client):
    long = "甲" * 400 + "乙" + "丙" * 400
    text = cast.text(content=long)
    edit(cast, text, content=long.replace("乙", "丁"))

    html = get(client, cast.auditor, f"/audit/texts/{text.pk}/").content.decode()

    body = re.search(r'<li class="change" data-field="content">(.*?)</li>', html, re.S).group(1)
    assert "<del>乙</del><ins>丁</ins>" in body
    assert "未改动 340 字" in body
    assert "甲" * 100 not in body


def test_past_the_pages_diff_budget_a_change_is_shown_as_one_stretch(cast, client):
    before = "甲" * 100 + "子" + "乙" * 100 + "丑" + "丙" * 100
    after = "甲" * 100 + "寅" + "乙" * 100 + "卯" + "丙" * 100
    changes = {"plan": [before, after]}

    exact = audit_selectors.field_changes(changes, budget=audit_selectors.DiffBudget())[0]
    cheap = audit_selectors.field_changes(changes, budget=audit_selectors.DiffBudget(10))[0]

    assert (exact.deleted, exact.inserted) == (2, 2)
    assert (cheap.deleted, cheap.inserted) == (102, 102)


# --- The CSV for people -----------------------------------------------------------------------


def test_the_page_links_to_the_peoples_csv_with_its_filters(cast, client):
    text = cast.text()

    html = get(client, cast.auditor, "/audit/", text=text.pk, action="create").content.decode()

    assert f'id="export-csv" href="/audit/export.csv?action=create&amp;text={text.pk}"' in html


def test_the_csv_has_chinese_headers_and_the_codes_in_their_own_columns(cast, client):
    cast.text_in("returned")

    raw, rows = export(client, cast.auditor)

    header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    for name in ("时间", "操作人", "代理", "操作", "结果", "项目文本", "部门"):
        assert name in header
    for name in ("阶段（前）", "阶段（后）", "修订", "意见", "变更字段"):
        assert name in header
    for code in ("event_id", "text_id", "action_code", "department_code"):
        assert code in header
    assert "from_state" in header and "to_state" in header
    returned = next(r for r in rows if r["action_code"] == "return")
    assert returned["操作"] == "退回"
    assert returned["部门"] == "中共新平彝族傣族自治县委员会组织部"
    assert returned["department_code"] == "org"
    assert (returned["阶段（前）"], returned["阶段（后）"]) == ("部门审核", "退回修改")
    assert (returned["from_state"], returned["to_state"]) == ("dept_review", "returned")
    assert returned["意见"] == "理由"
    assert returned["event_id"] == str(AuditEvent.objects.get(action="return").pk)


def test_the_csv_starts_with_a_byte_order_mark_for_excel(cast, client):
    cast.text()

    raw, _rows = export(client, cast.auditor)

    assert raw.startswith(b"\xef\xbb\xbf")


def test_the_csv_times_are_local_and_without_microseconds(cast, client):
    cast.text()
    event = AuditEvent.objects.get(action="create")

    _raw, rows = export(client, cast.auditor)

    [row] = [row for row in rows if row["event_id"] == str(event.pk)]
    expected = timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S")
    assert row["时间"] == expected
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["时间"])
    assert settings.TIME_ZONE  # the server's zone, whatever the browser's


def test_the_csv_writes_changes_as_words_not_json(cast, client):
    text = cast.text()
    edit(cast, text, amount="1651800.00")

    _raw, rows = export(client, cast.auditor, action="edit")

    assert rows[0]["变更字段"] == "金额（元）：1,751,800.00元 → 1,651,800.00元"
    assert "{" not in "".join(rows[0].values())


def test_the_csv_follows_the_pages_filters_newest_first(cast, client):
    text = cast.text_in("returned")
    cast.text()

    _raw, rows = export(client, cast.auditor, text=text.pk)

    assert [r["action_code"] for r in rows] == ["return", "submit", "create"]


def test_the_csv_and_the_page_name_whom_a_delegate_acted_for(cast, client):
    text = cast.text_in("approval")
    deputy = make_user("deputy", last_name="王", first_name="副")
    today = timezone.localdate()
    give_delegation(actor=cast.approver, to="deputy", starts=today, ends=today, reason="出差")
    act(deputy, text, "approve")

    _raw, rows = export(client, cast.auditor, text=text.pk)
    html = get(client, cast.auditor, "/audit/", text=text.pk).content.decode()

    assert (rows[0]["操作人"], rows[0]["代理"]) == ("王副（deputy）", "approver")
    assert rows[1]["代理"] == ""
    assert "代 approver" in html


# --- Verify -----------------------------------------------------------------------------------


def test_the_verify_button_asks_for_a_full_verification_and_shows_its_result(
    cast, client, django_capture_on_commit_callbacks
):
    cast.text_in("dept_review")
    client.force_login(cast.auditor)

    with django_capture_on_commit_callbacks(execute=True):  # the job runs after the commit
        response = client.post("/audit/verify/")
    html = client.get(response["Location"]).content.decode()

    [verification] = AuditVerification.objects.all()
    assert verification.kind == "full"
    assert response["Location"].startswith("/audit/?requested=")
    assert "校验通过" in html
    assert "这是您请求的完整校验" in html


def test_the_verify_button_pressed_again_too_soon_says_when_to_retry(cast, client):
    client.force_login(cast.auditor)
    client.post("/audit/verify/")

    response = client.post("/audit/verify/")

    assert response.status_code == 429
    assert "秒后再试" in response.content.decode()


def test_the_page_explains_the_hash_chain_and_checkpoints(cast, client):
    html = get(client, cast.auditor, "/audit/").content.decode()

    assert 'id="verify-now"' in html
    assert "哈希链" in html
    assert "检查点" in html and "链尾" in html


def test_a_non_auditor_may_not_verify(cast, client):
    client.force_login(cast.org_reviewer)

    response = client.post("/audit/verify/")

    assert response.status_code == 403
    assert AuditVerification.objects.count() == 0


# --- Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv", "/audit/texts/{id}/"])
def test_a_non_auditor_gets_the_styled_403_page(cast, client, url):
    response = get(client, cast.org_drafter, url.format(id=cast.text().pk))

    html = response.content.decode()
    assert response.status_code == 403
    assert 'class="error-page"' in html
    assert "没有权限" in html
    assert "只有审计人或审计管理员可以查看审计日志" in html
    assert "返回工作台" in html


def test_the_navigation_hides_audit_from_non_auditors(cast, client):
    html = get(client, cast.org_drafter, "/").content.decode()

    assert 'href="/audit/"' not in html


# --- Query counts -----------------------------------------------------------------------------


def page_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def varied_events(cast, texts: int) -> None:
    """Texts of both departments, moved along, edited, refused: every kind of row."""
    for n in range(texts):
        text = cast.text_in("returned" if n % 2 else "finance_review", title=f"文本 {n}")
        if n % 2:
            edit(cast, text, plan=f"第 {n} 次")


@pytest.mark.parametrize("url", ["/audit/", "/audit/?title=文本&outcome=ok"])
def test_the_search_page_costs_the_same_queries_for_10_and_200_events(cast, client, url):
    client.force_login(cast.auditor)
    varied_events(cast, 2)
    assert 8 <= AuditEvent.objects.count() <= 20
    few = page_queries(client, url)
    varied_events(cast, 55)
    assert AuditEvent.objects.count() >= 200

    assert page_queries(client, url) == few


def test_the_history_page_costs_the_same_queries_for_10_and_200_events(cast, client):
    client.force_login(cast.auditor)
    text = cast.text_in("returned")
    for n in range(6):
        edit(cast, text, plan=f"第 {n} 次")
    url = f"/audit/texts/{text.pk}/"
    few = page_queries(client, url)
    for n in range(200):
        edit(cast, text, plan=f"第 {n} 次修改", amount=f"{1000 + n}.00")

    assert page_queries(client, url) == few


def test_the_export_costs_the_same_queries_per_batch(cast, client):
    client.force_login(cast.auditor)
    varied_events(cast, 2)

    with CaptureQueriesContext(connection) as few:
        b"".join(client.get("/audit/export.csv").streaming_content)
    varied_events(cast, 45)
    with CaptureQueriesContext(connection) as many:
        b"".join(client.get("/audit/export.csv").streaming_content)

    assert AuditEvent.objects.count() < 500  # one batch
    assert len(many) == len(few)
