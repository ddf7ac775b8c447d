"""The auditor's pages in Chromium (issue 9), in Chinese and English, at a desktop's and a
phone's width: accessible, no horizontal scrolling at 390 px, no cramped cell, newest first,
the search by words, the change view, the verify button with its result."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from submissions.models import ProjectText
from tests.browser import checks
from tests.browser.conftest import login, open_context
from tests.factories import act, make_text
from workflow import services

pytestmark = pytest.mark.postgres

TITLE = "新平县村级组织换届工作经费"
LONG_CONTENT = "1.切实加强党的领导，把好政治关、廉洁关。\n" * 12


def history(people) -> ProjectText:
    """A text created, edited (amount and a long section), submitted and returned, and a
    refused attempt on it; a second text of the other department."""
    make_text(people["edu_drafter"], people.edu, title="新平县教师培训经费")
    text = make_text(people["org_drafter"], people.org, title=TITLE, content=LONG_CONTENT)
    services.edit_text(
        actor=people["org_drafter"],
        text_id=text.pk,
        version=ProjectText.objects.get(pk=text.pk).version,
        data={
            "amount": "1651800.00",
            "content": LONG_CONTENT.replace("政治关", "政治关、能力关", 1),
        },
    )
    act(people["org_drafter"], text, "submit")
    act(people["org_reviewer"], text, "return", comment="资金安排需细化", section="funding")
    return text


def test_the_audit_search_at_every_width_and_language(any_page, live_server, people):
    page = any_page
    variant = page.variant
    english = variant.endswith("en")
    text = history(people)
    login(page, live_server, "auditor", people.password)

    page.goto(f"{live_server.url}/audit/")

    expect(page.locator("main h1")).to_have_text("Audit" if english else "审计")
    rows = page.locator("table.events tbody tr.event")
    # Newest first: the auditor's own sign-in (sign-ins are audited), then the return.
    expect(rows.first).to_contain_text("auditor")
    expect(rows.first).to_contain_text("login page" if english else "登录页面")
    returned = rows.nth(1)
    expect(returned).to_contain_text("Return" if english else "退回")
    expect(returned).to_contain_text("资金安排需细化")
    expect(returned).to_contain_text("中共新平彝族傣族自治县委员会组织部")
    expect(page.locator(f'a[href="/audit/texts/{text.pk}/"]').first).to_contain_text(TITLE)
    if variant.startswith("phone"):
        checks.assert_no_horizontal_scroll(page)
        # Cards: the column names are in each cell.
        first_cell = rows.first.locator("td").first
        assert first_cell.get_attribute("data-label") == ("Time" if english else "时间")
    checks.assert_cells_wide_enough(page)
    checks.assert_accessible(page)
    name = "audit-search-desktop-zh" if variant == "desktop-zh" else f"audit-search-{variant}"
    checks.screenshot(page, name)

    # The text's history, each change field by field, at the same width and language.
    page.goto(f"{live_server.url}/audit/texts/{text.pk}/")
    expect(page.locator("table.events tbody tr.event").first).to_contain_text("资金安排需细化")
    expect(page.locator('li.change[data-field="amount"]').first).to_contain_text("1,651,800.00")
    if variant.startswith("phone"):
        checks.assert_no_horizontal_scroll(page)
    checks.assert_cells_wide_enough(page)
    checks.assert_accessible(page)
    checks.screenshot(page, f"audit-changes-{variant}")


def test_searching_by_title_words_user_and_action(browser, live_server, people):
    context = open_context(browser)
    page = context.new_page()
    try:
        history(people)
        login(page, live_server, "auditor", people.password)
        page.goto(f"{live_server.url}/audit/")
        search = page.locator("form.audit-search")

        search.get_by_label("项目名称含有").fill("村级 经费")
        search.get_by_label("用户（用户名或姓名）").fill("reviewer")
        search.get_by_label("操作").select_option(label="退回")
        search.get_by_role("button", name="查询", exact=True).click()

        rows = page.locator("table.events tbody tr.event")
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("资金安排需细化")
        export = page.get_by_role("link", name="导出 CSV", exact=True)
        assert export.get_attribute("href").startswith("/audit/export.csv?")

        search.get_by_label("起始日期").fill("2025-06-02")
        search.get_by_label("截止日期").fill("2025-06-01")
        search.get_by_role("button", name="查询", exact=True).click()
        summary = page.locator(".error-summary")
        expect(summary).to_contain_text("截止日期")
        checks.assert_accessible(page)
    finally:
        context.close()


def test_the_change_view_on_a_phone(browser, live_server, people):
    context = open_context(browser, phone=True)
    page = context.new_page()
    try:
        text = history(people)
        login(page, live_server, "auditor", people.password)

        page.goto(f"{live_server.url}/audit/texts/{text.pk}/")

        amount = page.locator('li.change[data-field="amount"]').first
        expect(amount).to_contain_text("金额（元）")
        expect(amount).to_contain_text("1,751,800.00元")
        expect(amount).to_contain_text("1,651,800.00元")
        content = page.locator('li.change[data-field="content"] details').nth(0)
        content.locator("summary").click()
        expect(content.locator("ins")).to_contain_text("能力关")
        checks.assert_no_horizontal_scroll(page)
        checks.assert_cells_wide_enough(page)
        checks.assert_accessible(page)
        content.scroll_into_view_if_needed()
        checks.screenshot(page, "audit-changes-phone-zh")
    finally:
        context.close()


def test_the_verify_button_shows_the_result_in_english(browser, live_server, people):
    context = open_context(browser, english=True)
    page = context.new_page()
    try:
        history(people)
        login(page, live_server, "auditor", people.password)
        page.goto(f"{live_server.url}/audit/")
        expect(page.locator("#verify")).to_contain_text("Not verified yet")

        page.get_by_role("button", name="Request a full verification", exact=True).click()

        expect(page).to_have_url(re.compile(r"/audit/\?requested=\d+#verify$"))
        expect(page.locator("#verify .ok")).to_contain_text("Verification passed")
        expect(page.locator("#verify .just-verified")).to_be_visible()
        page.locator("#verify details summary").click()
        expect(page.locator("#verify details")).to_contain_text("hash chain")
        checks.assert_accessible(page)
        checks.screenshot(page, "audit-verify-desktop-en")
    finally:
        context.close()


def test_a_non_auditor_sees_the_styled_403_and_no_audit_link(browser, live_server, people):
    context = open_context(browser)
    page = context.new_page()
    try:
        login(page, live_server, "org_drafter", people.password)
        expect(page.locator("header.site nav").get_by_role("link", name="审计")).to_have_count(0)

        response = page.goto(f"{live_server.url}/audit/")

        assert response is not None and response.status == 403
        expect(page.locator(".error-page h1")).to_have_text("没有权限")
        expect(page.locator(".error-page")).to_contain_text(
            "只有审计人或审计管理员可以查看审计日志"
        )
        checks.assert_accessible(page)
    finally:
        context.close()
