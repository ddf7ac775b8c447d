"""报表 (issue 10): the finance bureau's figures of a fiscal year, on the page, in the CSV and
in the workbook, checked against a year worked out by hand; who may see them; and what they
cost in queries as the texts grow from 10 to 2,000."""

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from django.conf import settings
from django.db import connection
from django.db.models import DateTimeField, Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from submissions.models import Department, ProjectText, Revision
from tests.factories import act, make_text, make_user
from tests.routing import at_finance, county_people
from tests.test_i18n import CJK
from workflow import clock, deadlines
from workflow.models import Decision, Route, StageVisit, WorkflowVersion
from workflow.selectors.reports import in_days
from workflow.states import Role

LOCAL = ZoneInfo("Asia/Shanghai")
# Monday 3 March 2025, 09:00 in the county.
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=LOCAL)


class Clock:
    """Acts happen at the moments a test names: the service's clock (timezone.now) and the
    database's (deadlines.db_now and, in the lock of an action, clock.db_now_in_statement,
    which stamp a stage's entry) all read it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = T0
        monkeypatch.setattr(timezone, "now", lambda: self.now)
        monkeypatch.setattr(deadlines, "db_now", lambda: self.now)
        monkeypatch.setattr(
            clock, "db_now_in_statement", lambda: Value(self.now, output_field=DateTimeField())
        )

    def at(self, days: float = 0, hours: float = 0) -> "Clock":
        self.now = T0 + timedelta(days=days, hours=hours)
        return self


@pytest.fixture
def year(cast, monkeypatch):
    """Fiscal year 2025, worked out by hand below; one 2024 text that must not count.

    A  org 1,000,000.00  submit d0; dept approve d2; finance approve d5; approve d6: approved
    B  org   500,000.00  submit d0; returned at dept d1; submit d3; dept approve d4 12h:
                         waits at finance since d4 21:00
    C  edu   250,000.50  submit d0; dept approve d1; returned by finance d4 6h: returned
    D  edu   100,000.00  draft
    E  edu   300,000.00  submit d7: waits at dept review (edu_reviewer) since d7
    F  org (2024)        submit d0; returned at dept d10 (a 10-day stay, not of 2025)

    Stays ended, in days: dept review A 2, B 1 and 1.5, C 1 (mean 1.375, longest 2);
    finance A 3, C 3.25 (mean 3.125, longest 3.25); approval A 1. Open: dept E, finance B.
    Decisions: dept review A✓ B↩ B✓ C✓ (1 return of 4); finance A✓ C↩ (1 of 2);
    approval A✓ (0 of 1).
    """
    clock = Clock(monkeypatch)
    edu_drafter, org_drafter = cast.edu_drafter, cast.org_drafter
    a = make_text(org_drafter, cast.org, title="A 换届经费", amount="1000000.00")
    b = make_text(org_drafter, cast.org, title="B 培训经费", amount="500000.00")
    c = make_text(edu_drafter, cast.edu, title="C 教师培训", amount="250000.50")
    make_text(edu_drafter, cast.edu, title="D 草稿", amount="100000.00")
    e = make_text(edu_drafter, cast.edu, title="E 新报", amount="300000.00")
    f = make_text(org_drafter, cast.org, title="F 上年度", amount="888888.00", fiscal_year=2024)
    clock.at(0)
    for text, drafter in ((a, org_drafter), (b, org_drafter), (c, edu_drafter), (f, org_drafter)):
        act(drafter, text, "submit")
    clock.at(1)
    act(cast.org_reviewer, b, "return", comment="请细化测算依据")
    act(cast.edu_reviewer, c, "dept_approve")
    clock.at(2)
    act(cast.org_reviewer, a, "dept_approve")
    clock.at(3)
    act(org_drafter, b, "submit")
    clock.at(4, 12)
    act(cast.org_reviewer, b, "dept_approve")
    clock.at(4, 6)
    act(cast.finance, c, "return", comment="绩效指标不完整")
    clock.at(5)
    act(cast.finance, a, "finance_approve")
    clock.at(6)
    act(cast.approver, a, "approve")
    clock.at(7)
    act(edu_drafter, e, "submit")
    clock.at(10)
    act(cast.org_reviewer, f, "return", comment="上年度")
    clock.at(12)
    return cast


# What the page shows, row by row (the name first, the total last).
PAGE_DEPARTMENTS = [
    ["中共新平彝族傣族自治县委员会组织部", "2", "1,500,000.00元"],
    ["新平县教育体育局", "3", "650,000.50元"],
    ["合计", "5", "2,150,000.50元"],
]
PAGE_STATES = [
    ["编制中", "1", "100,000.00元"],
    ["部门审核", "1", "300,000.00元"],
    ["财政审核", "1", "500,000.00元"],
    ["待审批", "0", "0.00元"],
    ["已批准", "1", "1,000,000.00元"],
    ["退回修改", "1", "250,000.50元"],
    ["不予立项", "0", "0.00元"],
    ["合计", "5", "2,150,000.50元"],
]
PAGE_STAGES = [
    ["部门审核", "4", "1.4", "2.0", "1", "4", "1", "25.0%"],
    ["财政审核", "2", "3.1", "3.3", "1", "2", "1", "50.0%"],
    ["待审批", "1", "1.0", "1.0", "0", "1", "0", "0.0%"],
]
PAGE_REVIEWERS = [
    ["edu_reviewer", "部门审核人", "1", "2025-03-10 09:00"],
    ["finance", "财政审核人", "1", "2025-03-07 21:00"],
    ["approver", "审批人", "0", "—"],
    ["org_reviewer", "部门审核人", "0", "—"],
]
# What the files carry: plain numbers, the unit in the header.
FILE_DEPARTMENTS = [
    ["部门", "文本数（件）", "金额（元）"],
    ["中共新平彝族傣族自治县委员会组织部", "2", "1500000.00"],
    ["新平县教育体育局", "3", "650000.50"],
    ["合计", "5", "2150000.50"],
]
FILE_STATES = [
    ["状态", "文本数（件）", "金额（元）"],
    ["编制中", "1", "100000.00"],
    ["部门审核", "1", "300000.00"],
    ["财政审核", "1", "500000.00"],
    ["待审批", "0", "0.00"],
    ["已批准", "1", "1000000.00"],
    ["退回修改", "1", "250000.50"],
    ["不予立项", "0", "0.00"],
    ["合计", "5", "2150000.50"],
]
FILE_STAGES = [
    [
        "审核阶段",
        "已结束停留（次）",
        "平均停留（自然日）",
        "最长停留（自然日）",
        "正在停留（件）",
        "审核决定（次）",
        "退回（次）",
        "退回率（%）",
    ],
    ["部门审核", "4", "1.4", "2.0", "1", "4", "1", "25.0"],
    ["财政审核", "2", "3.1", "3.3", "1", "2", "1", "50.0"],
    ["待审批", "1", "1.0", "1.0", "0", "1", "0", "0.0"],
]
FILE_REVIEWERS = [
    ["审核人", "角色", "待审核（件）", "最早送达"],
    ["edu_reviewer", "部门审核人", "1", "2025-03-10 09:00"],
    ["finance", "财政审核人", "1", "2025-03-07 21:00"],
    ["approver", "审批人", "0", ""],
    ["org_reviewer", "部门审核人", "0", ""],
]
FILES = {
    "departments": FILE_DEPARTMENTS,
    "states": FILE_STATES,
    "stages": FILE_STAGES,
    "reviewers": FILE_REVIEWERS,
}


def page_of(client, user, path: str = "/reports/"):
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, response.content.decode()[:500]
    return lxml.html.fromstring(response.content.decode())


def table_rows(html, key: str) -> list[list[str]]:
    rows = html.xpath(f"//table[@id='table-{key}']/*[self::tbody or self::tfoot]/tr")
    return [[cell.text_content().strip() for cell in row.xpath("th|td")] for row in rows]


def csv_rows(client, table: str, query: str = "year=2025") -> list[list[str]]:
    response = client.get(f"/reports/{table}.csv?{query}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


def sheet_rows(client, query: str = "year=2025") -> dict[str, list[list[str]]]:
    response = client.get(f"/reports/report.xlsx?{query}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in book.worksheets
    }


def figures(rows: list[list]) -> list[list]:
    """Cells compared as what they mean: a number whatever its spelling (1500000, 1500000.0,
    "1500000.00"), words as words, an empty cell as ""."""

    def figure(cell):
        if cell is None:
            return ""
        if isinstance(cell, int | float):
            return Decimal(str(cell))
        try:
            return Decimal(cell)
        except ArithmeticError:
            return cell

    return [[figure(cell) for cell in row] for row in rows]


# --- The figures --------------------------------------------------------------------------


def test_the_page_defaults_to_the_latest_year_with_texts(client, year):
    html = page_of(client, year.auditor)

    selected = html.xpath("//select[@id='f-year']/option[@selected]")
    assert [o.get("value") for o in selected] == ["2025"]
    assert [o.get("value") for o in html.xpath("//select[@id='f-year']/option")] == ["2025", "2024"]


def test_the_page_counts_and_sums_by_department(client, year):
    assert table_rows(page_of(client, year.auditor), "departments") == PAGE_DEPARTMENTS


def test_the_page_counts_and_sums_by_state(client, year):
    assert table_rows(page_of(client, year.auditor), "states") == PAGE_STATES


def test_the_page_gives_days_and_returned_rate_per_stage(client, year):
    assert table_rows(page_of(client, year.auditor), "stages") == PAGE_STAGES


def test_the_page_lists_what_waits_for_each_reviewer(client, year):
    assert table_rows(page_of(client, year.auditor), "reviewers") == PAGE_REVIEWERS


def test_the_page_says_the_days_are_calendar_days(client, year):
    notes = page_of(client, year.auditor).xpath("//div[@class='report-notes']")[0].text_content()

    assert "自然日" in notes


def test_another_year_counts_only_its_own_texts(client, year):
    html = page_of(client, year.auditor, "/reports/?year=2024")

    assert table_rows(html, "departments")[-1] == ["合计", "1", "888,888.00元"]
    # F's ten days at department review count in 2024, and only there.
    assert table_rows(html, "stages")[0] == [
        "部门审核", "1", "10.0", "10.0", "0", "1", "1", "100.0%",
    ]  # fmt: skip


@pytest.mark.parametrize("table", sorted(FILES))
def test_each_csv_carries_the_same_figures_with_chinese_headers(client, year, table):
    client.force_login(year.auditor)

    assert csv_rows(client, table) == FILES[table]


def test_the_workbook_has_one_sheet_a_table_with_the_same_figures(client, year):
    client.force_login(year.auditor)

    sheets = sheet_rows(client)

    assert list(sheets) == ["按部门", "按状态", "各审核阶段", "待审核"]
    assert [figures(rows) for rows in sheets.values()] == [figures(rows) for rows in FILES.values()]
    # Written as numbers, not as words that look like them.
    assert sheets["按部门"][1][1:] == [2, 1500000]


def test_the_workbook_holds_amounts_and_counts_as_numbers(client, year):
    client.force_login(year.auditor)
    response = client.get("/reports/report.xlsx?year=2025")
    sheet = load_workbook(io.BytesIO(response.content))["按部门"]

    total = [cell.value for cell in sheet[4]]

    assert total[0] == "合计"
    assert total[1] == 5
    assert Decimal(str(total[2])) == Decimal("2150000.50")
    assert sheet["C4"].number_format == "#,##0.00"


def test_a_department_name_that_looks_like_a_formula_stays_words(client, year):
    Department.objects.filter(code="edu").update(name="=SUM(A1:A9)")
    client.force_login(year.auditor)

    sheets = sheet_rows(client)

    assert sheets["按部门"][2][0] == "'=SUM(A1:A9)"
    assert csv_rows(client, "departments")[2][0] == "'=SUM(A1:A9)"


def test_the_charts_are_drawn_on_the_server_with_a_caption_and_a_bar_per_figure(client, year):
    html = page_of(client, year.auditor)

    charts = {f.get("id"): f for f in html.xpath("//figure[@class='chart']")}

    assert sorted(charts) == ["chart-departments", "chart-stages", "chart-states"]
    for chart in charts.values():
        svg = chart.xpath(".//svg")[0]
        assert svg.get("role") == "img"
        assert chart.xpath(".//figcaption")[0].get("id") in svg.get("aria-labelledby")
    departments = charts["chart-departments"]
    assert [t.text for t in departments.xpath(".//text[@class='value']")] == [
        "1,500,000.00元",
        "650,000.50元",
    ]
    # The largest amount has the longest bar; the other in proportion.
    assert [r.get("width") for r in departments.xpath(".//rect")] == ["62.00%", "26.87%"]
    assert len(charts["chart-states"].xpath(".//rect")) == len(PAGE_STATES) - 1
    stages = charts["chart-stages"]
    assert [t.text for t in stages.xpath(".//text[@class='value']")] == [
        "1.4天", "2.0天", "3.1天", "3.3天", "1.0天", "1.0天",
    ]  # fmt: skip


def test_a_stays_length_is_rounded_half_up_to_a_tenth_of_a_day():
    assert in_days(timedelta(days=1, hours=9)) == Decimal("1.4")  # 1.375
    assert in_days(timedelta(hours=6)) == Decimal("0.3")  # 0.25
    assert in_days(None) is None


def test_a_year_that_is_no_year_is_refused_naming_it(client, year):
    client.force_login(year.auditor)

    for query in ("year=abc", "year=99999", "year=-1"):
        response = client.get(f"/reports/?{query}")
        assert response.status_code == 400
        assert "预算年度" in response.content.decode()
        assert client.get(f"/reports/states.csv?{query}").status_code == 400


def test_an_unknown_table_is_not_found(client, year):
    client.force_login(year.auditor)

    assert client.get("/reports/nothing.csv?year=2025").status_code == 404


def test_a_year_without_texts_shows_zeros(client, year):
    html = page_of(client, year.auditor, "/reports/?year=2023")

    assert table_rows(html, "departments")[-1] == ["合计", "0", "0.00元"]


def test_with_no_texts_at_all_the_page_says_so(client, cast):
    html = page_of(client, cast.auditor)

    assert html.xpath("//p[@class='empty-report']")
    assert not html.xpath("//table")


# --- Who may see them ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["finance", "approver", "auditor"])
def test_the_finance_bureau_and_auditors_see_the_reports(client, cast, who):
    client.force_login(getattr(cast, who))

    assert client.get("/reports/").status_code == 200
    assert 'href="/reports/"' in client.get("/").content.decode()


# 三员分立 (issue 11): the system administrator ("admin", once a superuser holding every
# role) reads no texts, so no reports either.
@pytest.mark.parametrize("who", ["org_drafter", "org_reviewer", "admin"])
def test_a_drafter_department_reviewer_or_administrator_may_not_see_the_reports(client, cast, who):
    client.force_login(getattr(cast, who))

    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/states.csv").status_code == 403
    assert client.get("/reports/report.xlsx").status_code == 403
    assert 'href="/reports/"' not in client.get("/").content.decode()


def test_a_visitor_is_sent_to_log_in(client, db):
    response = client.get("/reports/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_finance_reviewer_counts_only_texts_that_reached_their_stage(client, year):
    """The reports count what the reader may see: a finance reviewer sees a text once it
    reached finance review (DESIGN.md), so drafts and texts at department review are not
    theirs to count."""
    rows = table_rows(page_of(client, year.finance), "states")

    assert rows[0] == ["编制中", "0", "0.00元"]
    assert rows[1] == ["部门审核", "0", "0.00元"]
    assert rows[-1] == ["合计", "3", "1,750,000.50元"]


def test_a_finance_reviewer_of_one_department_sees_only_its_figures(client, year):
    one = make_user("edu_finance", Role.FINANCE_REVIEWER, year.edu)

    rows = table_rows(page_of(client, one), "departments")

    assert rows == [["新平县教育体育局", "1", "250,000.50元"], ["合计", "1", "250,000.50元"]]


# --- In English ---------------------------------------------------------------------------


def test_the_page_is_complete_in_english(client, year):
    Department.objects.filter(code="org").update(name="Organisation Dept")
    Department.objects.filter(code="edu").update(name="Education Bureau")
    client.force_login(year.auditor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get("/reports/").content.decode().replace("简体中文", "")

    assert CJK.findall(html) == []
    assert "Reports" in html


def test_the_csv_headers_are_in_the_readers_language(client, year):
    client.force_login(year.auditor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    header = csv_rows(client, "states")[0]

    assert CJK.findall("".join(header)) == []
    assert header[0] == "Status"


# --- What they cost -----------------------------------------------------------------------

SMALL, LARGE = 10, 2_000
# A realistic spread: most texts are drafts or under review, fewer approved or sent back.
SPREAD = [
    "draft", "draft", "dept_review", "dept_review", "finance_review", "approval",
    "approved", "approved", "returned", "rejected",
]  # fmt: skip


def fill_to(cast, total: int) -> None:
    """Bring 2025 up to `total` texts over eight departments in every state, with the
    revisions, routes, stage stays and decisions such texts have."""
    departments = [cast.org, cast.edu] + [
        Department.objects.get_or_create(code=f"d{i}", defaults={"name": f"县属部门{i}"})[0]
        for i in range(6)
    ]
    missing = total - ProjectText.objects.filter(fiscal_year=2025).count()
    start = ProjectText.objects.count()
    texts = ProjectText.objects.bulk_create(
        [
            ProjectText(
                department=departments[i % len(departments)],
                created_by=cast.org_drafter,
                title=f"填充项目{start + i}",
                fiscal_year=2025,
                amount=Decimal(1000 + 37 * i),
                state=SPREAD[i % len(SPREAD)],
                revision=0 if SPREAD[i % len(SPREAD)] == "draft" else 1,
            )
            for i in range(missing)
        ],
        batch_size=500,
    )
    submitted = [t for t in texts if t.revision]
    version = WorkflowVersion.objects.order_by("-id").first()
    revisions = Revision.objects.bulk_create(
        [
            Revision(
                text=t, number=1, submitted_by=cast.org_drafter, title=t.title, fiscal_year=2025
            )
            for t in submitted
        ],
        batch_size=500,
    )
    Route.objects.bulk_create([Route(text=t, version=version) for t in submitted], batch_size=500)
    now = timezone.now()
    stays, decisions = [], []
    for index, (text, revision) in enumerate(zip(submitted, revisions, strict=True)):
        entered = now - timedelta(days=3 + index % 5)
        left = None if text.state in ("dept_review", "finance_review", "approval") else now
        stays.append(
            StageVisit(
                text=text,
                stage="dept_review",
                revision=1,
                entered_at=entered,
                due_at=entered,
                escalate_at=entered,
                left_at=left,
            )
        )
        if left is not None:
            action = {"returned": "return", "rejected": "reject"}.get(text.state, "dept_approve")
            decisions.append(
                Decision(
                    text=text,
                    revision=revision,
                    stage="dept_review",
                    action=action,
                    actor=cast.org_reviewer,
                    decided_at=now,
                )
            )
    StageVisit.objects.bulk_create(stays, batch_size=500)
    Decision.objects.bulk_create(decisions, batch_size=500)


def queries_of(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        assert response.status_code == 200
        b"".join(response.streaming_content) if response.streaming else response.content
    return len(queries)


@pytest.mark.parametrize(
    "path",
    ["/reports/?year=2025", "/reports/stages.csv?year=2025", "/reports/report.xlsx?year=2025"],
)
def test_the_page_and_each_download_cost_the_same_queries_at_10_and_2000_texts(
    client, cast, path, django_assert_num_queries
):
    client.force_login(cast.finance)
    fill_to(cast, SMALL)
    client.get(path)  # the first request of a process fills its caches
    small = queries_of(client, path)

    fill_to(cast, LARGE)

    with django_assert_num_queries(small):
        response = client.get(path)
        b"".join(response.streaming_content) if response.streaming else response.content
    assert ProjectText.objects.filter(fiscal_year=2025).count() == LARGE


def test_the_large_year_adds_up(client, cast):
    """The filler's figures are what the page shows: the 2,000 are counted, not skipped."""
    fill_to(cast, LARGE)

    rows = table_rows(page_of(client, cast.auditor), "states")

    assert rows[-1][1] == str(LARGE)
    assert rows[0] == ["编制中", "400", rows[0][2]]


# --- A county's own workflow ------------------------------------------------------------


def test_a_countys_extra_stage_has_its_row_where_its_workflow_puts_it(client, cast):
    """The county's document (tests/workflows/county.yaml) adds 县政府审议 between finance
    review and approval, with two desks at finance and two signatures at the county."""
    people = county_people(cast)
    text = at_finance(cast)
    act(cast.finance, text, "finance_approve")
    act(people["performance"], text, "finance_approve")
    act(people["county_a"], text, "county_approve")  # one of the two it needs

    html = page_of(client, cast.auditor)

    assert [row[0] for row in table_rows(html, "stages")] == [
        "部门审核", "财政审核", "县政府审议", "待审批",
    ]  # fmt: skip
    assert table_rows(html, "stages")[2] == ["县政府审议", "0", "—", "—", "1", "1", "0", "0.0%"]
    assert table_rows(html, "states")[3] == ["县政府审议", "1", "1,751,800.00元"]
    waiting = {row[0]: row[1:3] for row in table_rows(html, "reviewers")}
    assert waiting["county_b"] == ["县政府审议人", "1"]
    assert waiting["county_a"] == ["县政府审议人", "0"]
    assert waiting["performance"] == ["绩效审核人", "0"]
