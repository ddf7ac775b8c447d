"""The lists (issue 9): home as a dashboard per role, the text list with state counts,
filters, sort and a numbered pager, the inbox with where each text is, and bulk approval
with the stage's own verb, a comment, a total, and post/redirect/get."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import Notification
from submissions.models import ProjectText
from tests.factories import act, make_user
from tests.test_query_counts import LARGE, SMALL
from workflow import services
from workflow.models import Decision, StageVisit
from workflow.selectors.texts import amount_bound, existing_titles
from workflow.states import Role


def html_of(client, user, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def bulk_texts(cast, count: int, **fields) -> list[ProjectText]:
    """`count` texts of org, bulk-created (no actions, no audit): quick filler."""
    values = {
        "department": cast.org,
        "created_by": cast.org_drafter,
        "fiscal_year": 2025,
        "amount": "1000.00",
    }
    values.update(fields)
    title = values.pop("title", "填充项目")
    return ProjectText.objects.bulk_create(
        [ProjectText(title=f"{title}{i}", **values) for i in range(count)], batch_size=500
    )


def waiting_texts(cast, count: int, *, overdue: int = 0, state: str = "dept_review") -> None:
    """`count` texts of org waiting at `state`, each with its open stage visit; the first
    `overdue` of them past their due date."""
    now = timezone.now()
    texts = bulk_texts(cast, count, title="待审项目", state=state, revision=1, amount="1751800.00")
    StageVisit.objects.bulk_create(
        [
            StageVisit(
                text=text,
                stage=state,
                revision=1,
                entered_at=now - timedelta(days=9),
                due_at=now + (timedelta(days=-2) if i < overdue else timedelta(days=5)),
                escalate_at=now + timedelta(days=8),
            )
            for i, text in enumerate(texts)
        ],
        batch_size=500,
    )


def fill_to(cast, total: int) -> None:
    """Texts in the database up to `total`: a tenth waiting for org_reviewer, the rest drafts."""
    missing = total - ProjectText.objects.count()
    waiting_texts(cast, missing // 10, overdue=missing // 20)
    bulk_texts(cast, missing - missing // 10)
    assert ProjectText.objects.count() == total


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


# --- Home ------------------------------------------------------------------------------------


def test_home_counts_what_waits_for_the_reviewer_and_how_many_are_overdue(cast, client):
    waiting_texts(cast, 3, overdue=2)
    client.force_login(cast.org_reviewer)

    summary = client.get("/").context["summary"]

    assert (summary.count, summary.overdue) == (3, 2)


def test_home_shows_since_when_the_oldest_text_waits(cast, client):
    old = cast.text_in("dept_review", title="最早送审")
    ProjectText.objects.filter(pk=old.pk).update(
        entered_state_at=timezone.now() - timedelta(days=12)
    )
    cast.text_in("dept_review", title="后来送审")
    html = html_of(client, cast.org_reviewer, "/")

    oldest = (timezone.localtime() - timedelta(days=12)).strftime("%Y-%m-%d")
    assert re.search(rf'<dd class="oldest"><time [^>]*>{oldest}</time>', html)


def test_home_counts_my_texts_by_state_and_links_to_the_filtered_list(cast, client):
    cast.text()
    cast.text()
    cast.text_in("dept_review")
    html = html_of(client, cast.org_drafter, "/")

    assert re.search(r'href="/texts/\?state=draft"[^>]*>.*?<span class="n">2</span>', html)
    assert re.search(r'href="/texts/\?state=dept_review"[^>]*>.*?<span class="n">1</span>', html)
    assert 'href="/texts/?state=approved"' not in html


def test_home_lists_the_five_newest_notifications_of_the_user(
    cast, client, django_capture_on_commit_callbacks
):
    for i in range(7):
        text = cast.text(title=f"送审{i}")
        with django_capture_on_commit_callbacks(execute=True):
            act(cast.org_drafter, text, "submit")
    assert Notification.objects.filter(recipient=cast.org_reviewer).count() == 7

    html = html_of(client, cast.org_reviewer, "/")

    notices = re.search(r'<ul class="items notices">(.*?)</ul>', html, re.S).group(1)
    assert notices.count("<li") == 5
    assert "《送审6》" in notices
    assert "《送审1》" not in notices


def test_home_offers_a_drafter_new_and_import(cast, client):
    html = html_of(client, cast.org_drafter, "/")
    assert 'href="/texts/new/"' in html
    assert 'href="/texts/import/"' in html


def test_home_offers_a_reviewer_neither_new_nor_import(cast, client):
    html = html_of(client, cast.org_reviewer, "/")
    assert 'href="/texts/new/"' not in html
    assert 'href="/texts/import/"' not in html


def test_home_offers_an_auditor_the_audit_pages(cast, client):
    html = html_of(client, cast.auditor, "/")
    main = html.split('<main id="main"', 1)[1]
    assert 'href="/audit/"' in main


def test_home_offers_a_drafter_no_audit_link(cast, client):
    assert 'href="/audit/"' not in html_of(client, cast.org_drafter, "/")


@pytest.mark.parametrize("who", ["org_reviewer", "org_drafter", "auditor"])
def test_home_costs_the_same_queries_with_2000_texts_as_with_10(cast, client, who):
    client.force_login(getattr(cast, who))
    fill_to(cast, SMALL)
    queries(client, "/")
    small = queries(client, "/")

    fill_to(cast, LARGE)

    assert queries(client, "/") == small


# --- The text list ---------------------------------------------------------------------------


def test_the_state_tabs_count_the_texts_in_each_state(cast, client):
    bulk_texts(cast, 3)
    bulk_texts(cast, 2, state="approved", revision=1)
    html = html_of(client, cast.org_drafter, "/texts/")

    assert re.search(r'data-state="draft"[^>]*>[^<]*<span class="n">3</span>', html)
    assert re.search(r'data-state="approved"[^>]*>[^<]*<span class="n">2</span>', html)
    assert re.search(r'aria-current="page">全部 <span class="n">5</span>', html)


def test_the_state_counts_follow_the_other_filters(cast, client):
    bulk_texts(cast, 3, fiscal_year=2025)
    bulk_texts(cast, 4, fiscal_year=2026)
    client.force_login(cast.org_drafter)

    context = client.get("/texts/?fiscal_year=2026&state=approved").context

    counts = {s["value"]: s["count"] for s in context["states"]}
    assert counts["draft"] == 4
    assert context["total"] == 4


def test_the_state_tabs_keep_the_other_filters(cast, client):
    html = html_of(client, cast.org_drafter, "/texts/?fiscal_year=2026&q=%E7%BB%8F%E8%B4%B9")
    assert 'href="/texts/?state=draft&amp;fiscal_year=2026&amp;q=' in html


def test_the_list_filters_by_fiscal_year(cast, client):
    cast.text(title="二〇二五年的", fiscal_year=2025)
    cast.text(title="二〇二六年的", fiscal_year=2026)
    html = html_of(client, cast.org_drafter, "/texts/?fiscal_year=2026")
    assert "二〇二六年的" in html
    assert "二〇二五年的" not in html


def test_the_list_filters_by_department_offered_by_name(cast, client):
    services_text = cast.text(title="组织部的")
    html = html_of(client, cast.auditor, "/texts/?department=edu")

    assert '<option value="org">中共新平彝族傣族自治县委员会组织部</option>' in html
    assert '<option value="edu" selected>新平县教育体育局</option>' in html
    assert services_text.title not in html.split("<tbody>")[1]


def test_the_list_filters_by_an_amount_range_written_as_the_app_shows_amounts(cast, client):
    cast.text(title="小额项目", amount="500000.00")
    cast.text(title="中额项目", amount="1751800.00")
    cast.text(title="大额项目", amount="3000000.00")
    client.force_login(cast.org_drafter)

    response = client.get("/texts/", {"amount_min": "1,751,800.00元", "amount_max": "２000000"})

    assert [row["text"].title for row in response.context["rows"]] == ["中额项目"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("amount_min=abc", "最低金额"),
        ("amount_max=1.2.3", "最高金额"),
        ("amount_min=-5", "最低金额"),
    ],
)
def test_a_bad_amount_is_refused_with_400_naming_the_field(cast, client, query, named):
    client.force_login(cast.org_drafter)
    response = client.get(f"/texts/?{query}")
    assert response.status_code == 400
    assert f"{named}：" in response.content.decode()


def test_a_bad_fiscal_year_is_refused_with_400_naming_the_field(cast, client):
    client.force_login(cast.org_drafter)
    response = client.get("/texts/?fiscal_year=twenty")
    assert response.status_code == 400
    assert "预算年度：" in response.content.decode()


def test_an_unknown_sort_is_refused_with_400(cast, client):
    client.force_login(cast.org_drafter)
    response = client.get("/texts/?sort=password")
    assert response.status_code == 400
    assert "排序：" in response.content.decode()


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("amount", ["小", "中", "大"]),
        ("-amount", ["大", "中", "小"]),
        ("title", ["中", "大", "小"]),  # by code point: 中 < 大 < 小
    ],
)
def test_the_list_sorts_by_a_whitelisted_column(cast, client, sort, expected):
    cast.text(title="小", amount="1.00")
    cast.text(title="大", amount="300.00")
    cast.text(title="中", amount="20.00")
    client.force_login(cast.org_drafter)

    rows = client.get(f"/texts/?sort={sort}").context["rows"]

    assert [row["text"].title for row in rows] == expected


def test_the_list_searches_titles(cast, client):
    cast.text(title="村级组织换届经费")
    cast.text(title="教师培训")
    html = html_of(client, cast.org_drafter, "/texts/?q=换届")
    assert "村级组织换届经费" in html
    assert "教师培训" not in html


def test_the_list_shows_each_texts_id(cast, client):
    text = cast.text()
    html = html_of(client, cast.org_drafter, "/texts/")
    assert re.search(rf'<td class="id"[^>]*>#{text.pk}</td>', html)


def test_the_list_says_where_a_text_is_whom_it_waits_for_and_by_when(cast, client):
    text = cast.text_in("dept_review")
    due = StageVisit.objects.get(text=text, left_at__isnull=True).due_at
    html = html_of(client, cast.org_drafter, "/texts/")

    cell = re.search(r'<td class="state-cell".*?</td>', html, re.S).group(0)
    assert ">部门审核</span>" in cell
    assert "待部门审核人处理" in cell
    assert f"{timezone.localtime(due):%Y-%m-%d} 前" in cell


def test_the_list_says_a_returned_text_waits_for_its_drafter(cast, client):
    cast.text_in("returned")
    assert "待编制人修改后重新提交" in html_of(client, cast.org_drafter, "/texts/")


def test_the_pager_numbers_the_pages_marks_the_current_one_and_keeps_the_filters(cast, client):
    bulk_texts(cast, 120, fiscal_year=2026)
    html = html_of(client, cast.org_drafter, "/texts/?fiscal_year=2026&page=2")

    pager = html.split('<nav class="pager"', 1)[1].split("</nav>", 1)[0]
    assert 'aria-current="page" href="?fiscal_year=2026&amp;page=2">2</a>' in pager
    assert 'href="?fiscal_year=2026&amp;page=1">1</a>' in pager
    assert 'href="?fiscal_year=2026&amp;page=3">3</a>' in pager
    assert 'rel="prev" href="?fiscal_year=2026&amp;page=1"' in pager
    assert 'rel="next" href="?fiscal_year=2026&amp;page=3"' in pager


def test_the_pager_elides_far_pages(cast, client):
    bulk_texts(cast, 600)
    html = html_of(client, cast.org_drafter, "/texts/?page=6")
    pager = html.split('<nav class="pager"', 1)[1].split("</nav>", 1)[0]
    assert "…" in pager
    assert ">12</a>" in pager
    assert ">2</a>" not in pager


def test_the_api_text_list_ignores_the_pages_own_parameters(cast, api):
    cast.text(amount="1.00")
    response = api(cast.org_drafter).get("/api/v1/texts/?amount_min=abc&sort=password")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_the_text_list_costs_the_same_queries_with_2000_texts_as_with_10(cast, client):
    client.force_login(cast.org_drafter)
    url = (
        "/texts/?fiscal_year=2025&department=org&amount_min=10&amount_max=2,000,000元"
        "&q=项目&sort=-amount"
    )
    fill_to(cast, SMALL)
    queries(client, url)
    small = queries(client, url)

    fill_to(cast, LARGE)

    assert queries(client, url) == small
    assert len(client.get(url).context["rows"]) == 50


def test_the_text_list_as_a_reviewer_costs_the_same_queries_with_2000_texts_as_with_10(
    cast, client
):
    client.force_login(cast.finance)
    fill_to(cast, SMALL)
    queries(client, "/texts/?state=dept_review")
    small = queries(client, "/texts/?state=dept_review")

    fill_to(cast, LARGE)

    assert queries(client, "/texts/?state=dept_review") == small


# --- The inbox -------------------------------------------------------------------------------


def test_the_inbox_says_where_each_text_is(cast, client):
    cast.text_in("dept_review")
    assert "部门审核，待部门审核人处理" in html_of(client, cast.org_reviewer, "/inbox/")


def test_the_inbox_marks_an_overdue_text(cast, client):
    waiting_texts(cast, 2, overdue=1)
    html = html_of(client, cast.org_reviewer, "/inbox/")
    assert html.count('<tr data-text="') == 2
    assert html.count('class="overdue"') == 1
    assert "已逾期" in html


# The title is the card's heading and the box its own control: neither needs a label.
TITLE_OR_BOX = (' class="title"', ' class="pick"')


def test_the_inbox_labels_every_cell_for_the_phone_cards(cast, client):
    cast.text_in("dept_review")
    html = html_of(client, cast.org_reviewer, "/inbox/")
    assert '<table class="inbox cards">' in html
    row = html.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r"<td([^>]*)>", row)
    assert len(cells) == 8
    unlabelled = [
        c for c in cells if "data-label" not in c and "title" not in c and "pick" not in c
    ]
    assert unlabelled == []


def test_the_inbox_costs_the_same_queries_with_2000_texts_as_with_10(cast, client):
    client.force_login(cast.org_reviewer)
    fill_to(cast, SMALL)
    queries(client, "/inbox/")
    small = queries(client, "/inbox/")

    fill_to(cast, LARGE)

    assert queries(client, "/inbox/") == small
    assert len(client.get("/inbox/").context["rows"]) == 50


def test_the_inbox_offers_select_all_and_the_amount_of_each_box(cast, client):
    text = cast.text_in("dept_review")
    html = html_of(client, cast.org_reviewer, "/inbox/")
    assert 'data-select-all="texts"' in html
    assert f'value="{text.pk}" data-amount="1751800.00"' in html
    assert 'data-selection="texts"' in html
    assert 'data-amount-format="%s元"' in html
    assert 'data-fill="count"' in html and 'data-fill="total"' in html
    assert "data-none-selected" in html


def test_the_bulk_button_says_pass_at_a_review_stage(cast, client):
    cast.text_in("dept_review")
    html = html_of(client, cast.org_reviewer, "/inbox/")
    assert ">批量通过</button>" in html
    assert 'data-confirm="通过"' in html


def test_the_bulk_button_says_approve_at_the_final_stage(cast, client):
    cast.text_in("approval")
    html = html_of(client, cast.approver, "/inbox/")
    assert ">批量批准</button>" in html
    assert ">批量通过</button>" not in html
    assert 'data-confirm="批准"' in html


def test_a_page_mixing_stages_names_the_verb_of_each_row(cast, client):
    cast.text_in("approval", title="待批准的")
    cast.text_in("finance_review", title="待财政审核的")
    both = make_user("both", Role.FINANCE_REVIEWER)
    services.grant_role(actor=None, user=both, role=Role.APPROVER, department=None)
    html = html_of(client, both, "/inbox/")

    assert ">批量审批</button>" in html
    verbs = re.findall(
        r'<tr data-text="\d+">.*?<a href="[^"]+">(.*?)</a>.*?<td class="verb"[^>]*>(.*?)</td>',
        html,
        re.S,
    )
    assert sorted(verbs) == [("待批准的", "批准"), ("待财政审核的", "通过")]


# --- Bulk approval ---------------------------------------------------------------------------


def bulk_post(client, texts, **extra):
    data = {"texts": [t.pk for t in texts], **{f"version-{t.pk}": t.version for t in texts}}
    data.update(extra)
    return client.post("/inbox/approve/", data)


def test_bulk_approval_with_nothing_ticked_is_refused_with_400_and_changes_nothing(cast, client):
    text = cast.text_in("dept_review")
    client.force_login(cast.org_reviewer)

    response = client.post("/inbox/approve/", {f"version-{text.pk}": text.version})

    assert response.status_code == 400
    html = response.content.decode()
    assert "请先选择要通过的项目文本" in html
    assert "已通过 0 份" not in html
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"


def test_bulk_approval_records_the_comment_on_each_approval(cast, client):
    texts = [cast.text_in("dept_review") for _ in range(2)]
    client.force_login(cast.org_reviewer)

    bulk_post(client, texts, comment="同意，按程序办理")

    comments = Decision.objects.filter(text__in=texts, action="dept_approve")
    assert sorted(comments.values_list("comment", flat=True)) == ["同意，按程序办理"] * 2


def test_bulk_approval_redirects_to_a_result_page(cast, client):
    text = cast.text_in("dept_review")
    client.force_login(cast.org_reviewer)

    response = bulk_post(client, [text])

    assert response.status_code == 303
    assert response["Location"] == "/inbox/approve/"


def test_the_result_page_says_what_was_approved_and_the_total(cast, client):
    amounts = ["1751800.00", "1979500.00", "1000000.00"]
    texts = [cast.text_in("approval", amount=a, title=f"项目{a}") for a in amounts]
    client.force_login(cast.approver)

    html = client.get(bulk_post(client, texts)["Location"]).content.decode()

    assert "已批准 3 份，合计 4,731,300.00元" in html
    assert all(f"项目{a}" in html for a in amounts)
    assert set(
        ProjectText.objects.filter(pk__in=[t.pk for t in texts]).values_list("state", flat=True)
    ) == {"approved"}


def test_the_result_page_says_what_was_refused_and_why(cast, client):
    text = cast.text_in("dept_review")
    stale = {"texts": [text.pk], f"version-{text.pk}": text.version + 7}
    client.force_login(cast.org_reviewer)

    client.post("/inbox/approve/", stale)
    html = client.get("/inbox/approve/").content.decode()

    assert "未能处理 1 份" in html
    assert "版本已过期" in html
    assert "已通过" not in html


def test_reloading_the_result_page_approves_nothing_again(cast, client):
    first, second = cast.text_in("dept_review"), cast.text_in("dept_review")
    client.force_login(cast.org_reviewer)
    bulk_post(client, [first])
    decisions = Decision.objects.count()

    client.get("/inbox/approve/")
    client.get("/inbox/approve/")

    assert Decision.objects.count() == decisions
    assert ProjectText.objects.get(pk=second.pk).state == "dept_review"


def test_the_result_page_without_a_result_sends_to_the_inbox(cast, client):
    client.force_login(cast.org_reviewer)
    response = client.get("/inbox/approve/")
    assert response.status_code == 303
    assert response["Location"] == "/inbox/"


def test_bulk_approval_of_an_unknown_id_is_refused_by_name(cast, client):
    client.force_login(cast.org_reviewer)
    client.post("/inbox/approve/", {"texts": ["99999", "abc"]})
    refused = client.get("/inbox/approve/").context["refused"]
    assert [r["title"] for r in refused] == ["#99999", "#abc"]
    assert all(r["reason"] == "项目文本不存在。" for r in refused)


# --- Selectors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1,751,800.00元", Decimal("1751800.00")),
        ("1751800", Decimal("1751800.00")),
        ("１７５１８００", Decimal("1751800.00")),
        (" 12.5 元", Decimal("12.50")),
        ("", None),
    ],
)
def test_an_amount_bound_is_read_as_people_type_it(typed, amount):
    assert amount_bound("amount_min", typed) == amount


def test_existing_titles_finds_a_title_of_the_same_department_and_year_only(cast):
    cast.text(title="村级组织换届工作经费", fiscal_year=2025)
    org = cast.org.name
    asked = [
        (org, 2025, "村级组织换届工作经费"),
        (org, 2026, "村级组织换届工作经费"),
        (cast.edu.name, 2025, "村级组织换届工作经费"),
    ]
    assert existing_titles(asked) == {(org, 2025, "村级组织换届工作经费")}


# --- English ---------------------------------------------------------------------------------

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]+")


def english_html(client, user, url: str, data: tuple[str, ...]) -> list[str]:
    """The Chinese left on an English page once the data's own words are taken out."""
    client.force_login(user)
    client.cookies["django_language"] = "en"
    response = client.get(url, follow=True)
    html = response.content.decode().replace("简体中文", "")
    for word in data:
        html = html.replace(word, "")
    return sorted(set(CJK.findall(html)))


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("org_reviewer", "/"),
        ("org_drafter", "/"),
        ("auditor", "/"),
        ("org_drafter", "/texts/"),
        ("org_drafter", "/texts/?amount_min=abc"),
        ("org_reviewer", "/inbox/"),
        ("approver", "/inbox/"),
    ],
)
def test_the_lists_are_complete_in_english(
    cast, client, django_capture_on_commit_callbacks, who, url
):
    with django_capture_on_commit_callbacks(execute=True):
        cast.text(title="Draft")
        cast.text_in("dept_review", title="Waiting")
        cast.text_in("returned", title="Returned")
        cast.text_in("approval", title="Final")
    data = (cast.org.name, cast.edu.name, "理由")  # the return's reason
    assert english_html(client, getattr(cast, who), url, data) == []


def test_the_bulk_result_is_complete_in_english(cast, client):
    texts = [cast.text_in("approval", title=f"Final {i}") for i in range(2)]
    stale = cast.text_in("approval", title="Stale")
    client.force_login(cast.approver)
    client.cookies["django_language"] = "en"
    data = {"texts": [t.pk for t in [*texts, stale]], "comment": "OK"}
    data.update({f"version-{t.pk}": t.version for t in texts})
    data[f"version-{stale.pk}"] = stale.version + 1
    client.post("/inbox/approve/", data)

    assert english_html(client, cast.approver, "/inbox/approve/", ()) == []


# --- The import preview's duplicate warning --------------------------------------------------


def preview(client, user) -> str:
    from tests.test_pages import SAMPLE

    client.force_login(user)
    with SAMPLE.open("rb") as upload:
        response = client.post("/texts/import/", {"step": "preview", "file": upload})
    assert response.status_code == 200
    return response.content.decode()


def test_the_import_preview_warns_of_a_title_the_department_has_that_year(cast, client):
    cast.text(title="新平县村级组织换届工作经费", fiscal_year=2025)
    html = preview(client, cast.org_drafter)
    assert html.count('class="alert alert-warning duplicate-warning"') == 1
    assert "2025 年度已有同名项目文本" in html


def test_the_import_preview_does_not_warn_of_another_years_title(cast, client):
    cast.text(title="新平县村级组织换届工作经费", fiscal_year=2024)
    assert "duplicate-warning" not in preview(client, cast.org_drafter)


def test_bulk_approval_of_too_long_a_comment_is_refused_with_400_and_changes_nothing(cast, client):
    text = cast.text_in("dept_review")
    client.force_login(cast.org_reviewer)

    response = bulk_post(client, [text], comment="长" * 5_001)

    assert response.status_code == 400
    assert "审核意见不能超过 5000 个字符" in response.content.decode()
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"


def test_bulk_approval_of_too_many_texts_at_once_is_refused_with_400(cast, client):
    client.force_login(cast.org_reviewer)
    response = client.post("/inbox/approve/", {"texts": [str(n) for n in range(1, 202)]})
    assert response.status_code == 400
    assert "一次最多处理 200 份" in response.content.decode()
