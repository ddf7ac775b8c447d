"""The structured content in Chromium (issue 10), at a desktop's 1440px and a phone's 390px:
rows of the breakdown added and removed by script and saved, the running total beside the
amount, the 二级指标 following the 一级指标, the tables as labelled cards on a phone with no
horizontal scrolling, the 核对提示 panel, accessible (axe); screenshots of each."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from submissions.demo_content import ELECTION_TITLE, ENRICHMENT
from submissions.models import ProjectText
from tests.browser import checks
from tests.browser.conftest import guard_the_network, login, open_context, watch_for_script_errors
from tests.factories import act, make_text

pytestmark = pytest.mark.postgres


@pytest.fixture(params=["desktop", "phone"])
def width_page(request, browser: Browser) -> Iterator[Page]:
    context = open_context(browser, phone=request.param == "phone")
    outside = guard_the_network(context)
    page = context.new_page()
    errors = watch_for_script_errors(page)
    page.variant = request.param  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()
    assert outside == [], outside
    assert errors == [], errors


def enriched_draft(people, **overrides) -> ProjectText:
    """The sample's first text with its demo tables (submissions.demo_content)."""
    values = {
        key: value for key, value in ENRICHMENT[ELECTION_TITLE].items() if key != "project_code"
    }
    total = sum(Decimal(row["amount"]) for row in values["breakdown"])
    values.update(
        title=ELECTION_TITLE, amount=f"{total:.2f}", funding=f"安排{total:,.2f}元。", **overrides
    )
    return make_text(people["org_drafter"], people.org, **values)


def phone(page: Page) -> bool:
    return page.variant == "phone"  # type: ignore[attr-defined]


def fits(page: Page) -> None:
    if phone(page):
        checks.assert_no_horizontal_scroll(page)
    checks.assert_accessible(page)


def test_breakdown_rows_are_added_removed_and_saved(width_page, live_server, people, screenshots):
    page = width_page
    text = enriched_draft(people)
    login(page, live_server, "org_drafter", people.password)
    page.goto(f"{live_server.url}/texts/{text.pk}/edit/")
    editor = page.locator("#id_breakdown")
    rows = editor.locator("tbody[data-rows] > tr[data-row]")
    before = rows.count()  # six rows and one blank
    total = page.locator("#breakdown-total")
    expect(total).to_contain_text("1,751,800.00")
    expect(total.locator("[data-differs]")).to_be_hidden()

    editor.locator("[data-add-row]").click()
    expect(rows).to_have_count(before + 1)
    new = rows.last
    expect(new.locator("input").first).to_be_focused()
    new.locator("input[name$='-item']").fill("宣传资料印制费")
    new.locator("input[name$='-amount']").fill("1.2万")
    expect(total).to_contain_text("1,763,800.00")
    expect(total.locator("[data-differs]")).to_be_visible()
    # Every control of the new row has its label; on a phone the label is shown above it.
    label = new.locator("label.cell-label").first
    if phone(page):
        expect(label).to_be_visible()
    fits(page)
    editor.scroll_into_view_if_needed()
    checks.screenshot(page, f"content-breakdown-editing-{page.variant}", full_page=False)

    # The first row goes: the numbers of the rest follow.
    rows.first.locator("[data-remove-row]").click()
    expect(rows).to_have_count(before)
    expect(rows.first.locator("[data-row-number]")).to_have_text("1")
    expect(total).to_contain_text("1,583,800.00")
    page.locator("#id_amount").fill("")
    page.locator("#id_title").press("Enter")  # saves: the default button is 保存
    expect(page).to_have_url(re.compile(rf"/texts/{text.pk}/$"))

    saved = ProjectText.objects.get(pk=text.pk)
    assert [row["item"] for row in saved.breakdown][-1] == "宣传资料印制费"
    assert saved.breakdown[-1]["amount"] == "12000.00"
    assert len(saved.breakdown) == 6
    assert saved.amount == Decimal("1583800.00")


def test_the_second_level_follows_the_first(width_page, live_server, people, screenshots):
    page = width_page
    text = enriched_draft(people)
    login(page, live_server, "org_drafter", people.password)
    page.goto(f"{live_server.url}/texts/{text.pk}/edit/")
    editor = page.locator("#id_indicators")
    editor.locator("[data-add-row]").click()
    row = editor.locator("tbody[data-rows] > tr[data-row]").last
    level1, level2 = row.locator("select[name$='-level1']"), row.locator("select[name$='-level2']")

    level1.select_option("benefit")
    offered = level2.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert offered == ["", "economic", "social", "ecological", "sustainable"]
    level2.select_option("social")
    level1.select_option("satisfaction")
    expect(level2).to_have_value("")
    offered = level2.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert offered == ["", "beneficiary"]
    fits(page)
    page.locator(".targets-title").evaluate("title => title.scrollIntoView()")
    checks.screenshot(page, f"content-targets-editing-{page.variant}", full_page=False)


def test_the_text_page_shows_the_tables_and_the_warnings(
    width_page, live_server, people, screenshots
):
    page = width_page
    # 五 has parts that 七 does not plan, an indicator lacks its unit.
    indicators = [*ENRICHMENT[ELECTION_TITLE]["indicators"]]
    indicators[0] = indicators[0] | {"unit": ""}
    text = enriched_draft(
        people,
        content="（一）换届选举\n（二）拍摄宣传片",
        plan="（一）换届选举",
        indicators=indicators,
    )
    act(people["org_drafter"], text, "submit")
    login(page, live_server, "org_reviewer", people.password)
    page.goto(f"{live_server.url}/texts/{text.pk}/")

    panel = page.locator("section#checks")
    expect(panel).to_be_visible()
    codes = panel.locator("li.check").evaluate_all("lis => lis.map(li => li.dataset.code)")
    assert "activity_without_milestone" in codes and "indicator_incomplete" in codes
    assert panel.bounding_box()["y"] < page.locator("#decide").bounding_box()["y"]
    expect(page.locator("#part-breakdown table tbody tr")).to_have_count(6)
    fits(page)
    checks.assert_cells_wide_enough(page)
    panel.scroll_into_view_if_needed()
    checks.screenshot(page, f"content-warnings-{page.variant}", full_page=False)
    panel.locator("a[href='#part-indicators']").click()
    expect(page.locator("#part-indicators")).to_be_in_viewport()
