"""报表 in Chromium (issue 10): the page and its three charts at a desktop's and a phone's
width, in Chinese and English: accessible, no horizontal scrolling, no cramped cell, every
bar's value inside its chart; the downloads arrive as files; a drafter meets the 403."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser import checks
from tests.browser.conftest import login, open_context
from tests.factories import act, make_text
from workflow.models import StageVisit

pytestmark = pytest.mark.postgres

# How long each stay lasted, in days, in the order the stays were made: a spread a chart
# shows.
STAY_DAYS = [1.5, 3.0, 2.0, 6.5, 4.0, 0.5, 2.5, 5.0]


def a_year(people) -> None:
    """Texts of both departments in most states, with stays of known lengths."""
    org, edu = people.org, people.edu
    org_drafter, edu_drafter = people["org_drafter"], people["edu_drafter"]
    approved = make_text(org_drafter, org, title="新平县村级组织换届工作经费", amount="1751800.00")
    waiting = make_text(org_drafter, org, title="新平县党员教育培训经费", amount="640000.00")
    returned = make_text(edu_drafter, edu, title="新平县教师培训经费", amount="325000.50")
    make_text(edu_drafter, edu, title="新平县学生资助工作经费", amount="98000.00")
    fresh = make_text(edu_drafter, edu, title="新平县校园安全工作经费", amount="410000.00")
    for text, drafter in ((approved, org_drafter), (waiting, org_drafter), (returned, edu_drafter)):
        act(drafter, text, "submit")
    act(people["org_reviewer"], waiting, "return", comment="请细化测算依据")
    act(org_drafter, waiting, "submit")
    act(people["org_reviewer"], waiting, "dept_approve")
    act(people["edu_reviewer"], returned, "dept_approve")
    act(people["finance"], returned, "return", comment="绩效指标不完整")
    act(people["org_reviewer"], approved, "dept_approve")
    act(people["finance"], approved, "finance_approve")
    act(people["approver"], approved, "approve")
    act(edu_drafter, fresh, "submit")
    now = timezone.now()
    for days, visit in zip(STAY_DAYS, StageVisit.objects.order_by("id"), strict=False):
        visit.entered_at = (visit.left_at or now) - timedelta(days=days)
        visit.save(update_fields=["entered_at"])


def values_inside_their_charts(page: Page) -> list[str]:
    """Bar values drawn past the right edge of their chart (cut off), with their text."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('figure.chart svg')).flatMap(svg => {
            const edge = svg.getBoundingClientRect().right + 0.5;
            return Array.from(svg.querySelectorAll('text'))
                .filter(t => t.getBoundingClientRect().right > edge)
                .map(t => t.textContent);
        })"""
    )


def test_the_report_page_and_its_charts_at_every_width_and_language(any_page, live_server, people):
    page = any_page
    variant = page.variant
    english = variant.endswith("en")
    a_year(people)
    login(page, live_server, "auditor", people.password)

    page.goto(f"{live_server.url}/reports/")

    expect(page.locator("main h1")).to_have_text("Reports" if english else "报表")
    expect(page.locator("figure.chart")).to_have_count(3)
    for chart in ("chart-departments", "chart-states", "chart-stages"):
        expect(page.locator(f"#{chart} svg rect").first).to_be_visible()
    # org's two texts come first, the larger amount.
    expect(page.locator("#chart-departments text.value").first).to_contain_text("2,391,800.00")
    total = page.locator("#table-departments tfoot tr")
    expect(total).to_contain_text("5")
    expect(total).to_contain_text("3,224,800.50")
    expect(page.locator("#table-stages tbody tr").first).to_contain_text(
        "Department review" if english else "部门审核"
    )
    if variant.startswith("phone"):
        checks.assert_no_horizontal_scroll(page)
        first = page.locator("#table-departments tbody td").first
        assert first.get_attribute("data-label") == ("Texts" if english else "文本数（件）")
    assert values_inside_their_charts(page) == []
    checks.assert_cells_wide_enough(page)
    checks.assert_accessible(page)
    checks.screenshot(page, f"reports-{variant}")


def test_the_downloads_arrive_as_csv_and_excel(browser, live_server, people, tmp_path: Path):
    context = open_context(browser)
    page = context.new_page()
    try:
        a_year(people)
        login(page, live_server, "finance", people.password)
        expect(page.locator("header.site nav").get_by_role("link", name="报表")).to_be_visible()
        page.locator("header.site nav").get_by_role("link", name="报表").click()

        with page.expect_download() as csv_download:
            page.locator("#csv-departments").click()
        body = Path(csv_download.value.path()).read_bytes().decode("utf-8")
        with page.expect_download() as xlsx_download:
            page.locator("#download-xlsx").click()
        book = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))

        assert body.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
        assert rows[0] == ["部门", "文本数（件）", "金额（元）"]
        # A finance reviewer counts the texts that reached finance review.
        assert rows[-1] == ["合计", "3", "2716800.50"]
        assert book.sheetnames == ["按部门", "按状态", "各审核阶段", "待审核"]
        assert csv_download.value.suggested_filename.endswith("-departments.csv")
    finally:
        context.close()


def test_a_drafter_has_no_reports_link_and_meets_the_403(browser, live_server, people):
    context = open_context(browser, phone=True)
    page = context.new_page()
    try:
        login(page, live_server, "org_drafter", people.password)
        expect(page.locator("header.site nav").get_by_role("link", name="报表")).to_have_count(0)

        response = page.goto(f"{live_server.url}/reports/")

        assert response is not None and response.status == 403
        expect(page.locator(".error-page")).to_contain_text("报表供财政审核人")
        checks.assert_no_horizontal_scroll(page)
        checks.assert_accessible(page)
    finally:
        context.close()
