"""The lists in Chromium (issue 9), in Chinese and English, at a desktop's and a phone's width:
the reviewer's home dashboard, the text list with its state tabs, filters and pager, the inbox
as cards on a phone, and bulk approval's confirmation (count and total), its refusal when
nothing is ticked and its result page. Every page passes axe; a phone never scrolls sideways.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from submissions.models import ProjectText
from tests.browser import checks
from tests.browser.conftest import login, open_context
from tests.conftest import PATH_TO
from tests.factories import act, make_text
from workflow.models import StageVisit

pytestmark = pytest.mark.postgres

# Three texts awaiting final approval, totalling 4,731,300.00元.
AMOUNTS = ("1751800.00", "1979500.00", "1000000.00")
TOTAL = "4,731,300.00"


def text_in(people, state: str, **fields) -> ProjectText:
    text = make_text(people["org_drafter"], people.org, **fields)
    for action, who in PATH_TO[state]:
        act(people[who], text, action, comment="理由" if action == "return" else "")
    return ProjectText.objects.get(pk=text.pk)


def many_drafts(people, count: int) -> None:
    ProjectText.objects.bulk_create(
        [
            ProjectText(
                department=people.org,
                created_by=people["org_drafter"],
                title=f"乡镇项目{i:03d}",
                fiscal_year=2025 + i % 2,
                amount=f"{(i + 1) * 100000}.00",
            )
            for i in range(count)
        ]
    )


def is_english(page: Page) -> bool:
    return page.variant.endswith("en")  # type: ignore[attr-defined]


def is_phone(page: Page) -> bool:
    return page.variant.startswith("phone")  # type: ignore[attr-defined]


def page_checks(page: Page) -> None:
    checks.assert_accessible(page)
    if is_phone(page):
        checks.assert_no_horizontal_scroll(page)
        checks.assert_cells_wide_enough(page)


def test_the_reviewers_home_is_a_dashboard(any_page: Page, live_server, people):
    page = any_page
    late = text_in(people, "dept_review", title="已逾期的项目")
    StageVisit.objects.filter(text=late, left_at__isnull=True).update(
        due_at=timezone.now() - timedelta(days=2)
    )
    text_in(people, "dept_review", title="刚送审的项目")
    login(page, live_server, "org_reviewer", people.password)

    page.goto(f"{live_server.url}/")

    expect(page.locator(".figures .count")).to_have_text("2")
    expect(page.locator(".figures .overdue")).to_have_text("1")
    expect(page.locator("ul.waiting-items li")).to_have_count(2)
    expect(page.locator("ul.state-counts a[data-state=dept_review] .n")).to_have_text("2")
    expect(page.locator("ul.notices li")).to_have_count(2)
    waiting_word = "waiting for" if is_english(page) else "待部门审核人处理"
    expect(page.locator("ul.waiting-items .where").first).to_contain_text(waiting_word)
    page_checks(page)
    checks.screenshot(page, f"home-dashboard-reviewer-{page.variant}")


def test_the_drafters_home_offers_new_and_import(any_page: Page, live_server, people):
    page = any_page
    login(page, live_server, "org_drafter", people.password)
    expect(page.locator(".dashboard-head a[href='/texts/new/']")).to_be_visible()
    expect(page.locator(".dashboard-head a[href='/texts/import/']")).to_be_visible()
    expect(page.locator(".dashboard-head a[href='/audit/']")).to_have_count(0)
    page_checks(page)


def test_the_text_list_filters_counts_and_pages(any_page: Page, live_server, people):
    page = any_page
    many_drafts(people, 130)
    text_in(people, "dept_review", title="送审中的项目", fiscal_year=2026, amount="3000000.00")
    login(page, live_server, "org_drafter", people.password)
    page.goto(f"{live_server.url}/texts/")

    form = page.locator("form.list-filter")
    form.locator("input[name=fiscal_year]").fill("2026")
    form.locator("input[name=amount_min]").fill("1,000,000.00元")
    form.locator("select[name=department]").select_option("org")
    form.locator("select[name=sort]").select_option("-amount")
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"amount_min=1%2C000%2C000\.00"))
    # 2026's drafts are the odd ones, of 200,000 to 13,000,000 yuan: 61 of a million or more.
    tabs = page.locator("nav.state-tabs")
    expect(tabs.locator("a[data-state=draft] .n")).to_have_text("61")
    expect(tabs.locator("a[data-state=dept_review] .n")).to_have_text("1")
    rows = page.locator("table.texts tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first.locator("td.amount")).to_contain_text("13,000,000.00")
    pager = page.locator("nav.pager")
    expect(pager.locator("[aria-current=page]")).to_have_text("1")
    pager.get_by_role("link", name="2", exact=True).click()
    expect(pager.locator("[aria-current=page]")).to_have_text("2")
    expect(page).to_have_url(re.compile(r"fiscal_year=2026&.*page=2$"))
    expect(page.locator("select[name=sort]")).to_have_value("-amount")
    page_checks(page)
    checks.screenshot(page, f"text-list-filters-{page.variant}")


@pytest.mark.parametrize(
    ("phone", "english"), [(False, False), (True, True)], ids=["desktop-zh", "phone-en"]
)
def test_a_bad_amount_on_the_list_says_which_field(browser, live_server, people, phone, english):
    # Its own context: the 400 shows in the console as a failed load, which `any_page` fails on.
    context = open_context(browser, phone=phone, english=english)
    try:
        page = context.new_page()
        login(page, live_server, "org_drafter", people.password)
        page.goto(f"{live_server.url}/texts/?amount_max=lots")
        field = "Maximum amount" if english else "最高金额"
        expect(page.locator(".filter-errors")).to_contain_text(field)
        expect(page.locator("input[name=amount_max]")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("input[name=amount_max]")).to_have_value("lots")
        checks.assert_accessible(page)
        if phone:
            checks.assert_no_horizontal_scroll(page)
    finally:
        context.close()


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
def test_the_inbox_on_a_phone_is_cards_without_sideways_scrolling(
    browser, live_server, people, english
):
    for i in range(3):
        text_in(people, "dept_review", title=f"新平县第{i}项村级组织换届工作经费")
    context = open_context(browser, phone=True, english=english)
    try:
        page = context.new_page()
        login(page, live_server, "org_reviewer", people.password)
        page.goto(f"{live_server.url}/inbox/")
        cards = page.locator("table.inbox tbody tr")
        expect(cards).to_have_count(3)
        # A card: its title across the width, each other cell labelled by its column.
        box = cards.first.bounding_box()
        assert box is not None and box["width"] > 300
        label = cards.first.locator("td.amount").evaluate(
            "td => getComputedStyle(td, '::before').content"
        )
        assert ("Amount" if english else "金额") in label
        checks.assert_fits_a_phone(page)
        checks.screenshot(page, f"inbox-phone-{'en' if english else 'zh'}")
    finally:
        context.close()


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
def test_bulk_approval_confirms_the_count_and_total_then_shows_the_result(
    browser, live_server, people, english
):
    texts = [
        text_in(people, "approval", title=f"待批准{i}", amount=a) for i, a in enumerate(AMOUNTS)
    ]
    context = open_context(browser, english=english)
    try:
        page = context.new_page()
        login(page, live_server, "approver", people.password)
        page.goto(f"{live_server.url}/inbox/")
        verb = "Grant approval" if english else "批准"
        button = page.locator("form.bulk-approve button[name=bulk]")
        expect(button).to_have_text(f"{verb} (selected)" if english else "批量批准")

        page.locator("input[data-select-all=texts]").check()
        page.locator("textarea[name=comment]").fill("同意")
        page.wait_for_load_state()  # the confirmation is attached by the page's script
        button.click()

        dialog = page.locator("dialog.confirm")
        expect(dialog).to_be_visible()
        expect(dialog.locator("[data-fill=count]")).to_have_text("3")
        total = f"{TOTAL} yuan" if english else f"{TOTAL}元"
        expect(dialog.locator("[data-fill=total]")).to_have_text(total)
        expect(dialog).to_contain_text(verb)
        checks.assert_accessible(page)
        checks.screenshot(page, f"bulk-approve-confirmation-desktop-{'en' if english else 'zh'}")

        dialog.get_by_role("button", name=verb, exact=True).click()

        expect(page).to_have_url(f"{live_server.url}/inbox/approve/")
        done = page.locator("section.bulk-done h2")
        expect(done).to_contain_text(total)
        expect(done).to_contain_text("3")
        checks.assert_accessible(page)
        checks.screenshot(page, f"bulk-approve-result-desktop-{'en' if english else 'zh'}")
        page.reload()
        expect(done).to_contain_text(total)
        states = set(
            ProjectText.objects.filter(pk__in=[t.pk for t in texts]).values_list("state", flat=True)
        )
        assert states == {"approved"}
    finally:
        context.close()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_bulk_approval_with_nothing_ticked_is_refused_on_the_page(
    browser, live_server, people, phone
):
    text = text_in(people, "dept_review", title="未勾选的项目")
    context = open_context(browser, phone=phone)
    try:
        page = context.new_page()
        login(page, live_server, "org_reviewer", people.password)
        page.goto(f"{live_server.url}/inbox/")

        page.locator("form.bulk-approve button[name=bulk]").click()

        refusal = page.locator("[data-none-selected]")
        expect(refusal).to_be_visible()
        expect(refusal).to_have_text("请先选择要通过的项目文本。")
        expect(page.locator("dialog.confirm")).to_have_count(0)
        expect(page).to_have_url(f"{live_server.url}/inbox/")
        assert ProjectText.objects.get(pk=text.pk).state == "dept_review"
        checks.assert_accessible(page)
        checks.screenshot(page, f"bulk-approve-nothing-ticked-{'phone' if phone else 'desktop'}-zh")
    finally:
        context.close()
