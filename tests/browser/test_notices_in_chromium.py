"""Notices in Chromium, in Chinese and English, at a desktop's and a phone's width: the
notifications list, the preferences, the header's language switch kept for the next sign-in,
the printable 审批表 (its print button, no horizontal scroll at 390 px) and a text page as
it prints. Each page passes axe (no serious or critical violation).

Screenshots: approval-form-{desktop,phone}-{zh,en}, notifications-*, preferences-*,
text-print-zh."""

import pytest
from playwright.sync_api import Browser, expect

from notifications.models import Preference
from submissions.models import ProjectText
from tests.browser import checks
from tests.browser.conftest import login, open_context
from tests.factories import act, make_text

pytestmark = pytest.mark.postgres

TITLE = "新平县村级组织换届工作经费"


def approved_text(people) -> ProjectText:
    """A text of org approved at every stage, each reviewer with an opinion."""
    text = make_text(people["org_drafter"], people.org, title=TITLE)
    act(people["org_drafter"], text, "submit")
    act(people["org_reviewer"], text, "dept_approve", comment="同意上报")
    act(people["finance"], text, "finance_approve", comment="资金测算合理，同意")
    act(people["approver"], text, "approve", comment="同意立项")
    return ProjectText.objects.get(pk=text.pk)


def test_the_approval_form_fits_every_screen_and_prints(any_page, live_server, people):
    page = any_page
    text = approved_text(people)
    login(page, live_server, "org_drafter", people.password)

    page.goto(f"{live_server.url}/texts/{text.pk}/approval-form/")

    form = page.locator("article.approval-form")
    expect(form.locator("h1")).to_contain_text("2025")
    expect(form).to_contain_text("1,751,800.00")
    expect(form).to_contain_text("同意立项")
    expect(page.locator("tr.stage-row")).to_have_count(3)
    if page.variant.endswith("zh"):  # type: ignore[attr-defined]
        expect(form).to_contain_text("壹佰柒拾伍万壹仟捌佰元整")
        expect(form).to_contain_text("六、资金安排情况")
    checks.assert_no_horizontal_scroll(page)
    checks.assert_cells_wide_enough(page)
    checks.assert_accessible(page)
    checks.screenshot(page, f"approval-form-{page.variant}")  # type: ignore[attr-defined]

    # 打印 calls the browser's print (stubbed here: headless Chromium has no dialog).
    page.evaluate("() => { window.print = () => { window.__printed = true; }; }")
    page.locator(".approval-tools [data-print]").click()
    assert page.evaluate("() => window.__printed === true")


def test_the_approval_form_prints_without_the_page_around_it(browser: Browser, live_server, people):
    text = approved_text(people)
    context = open_context(browser)
    page = context.new_page()
    try:
        login(page, live_server, "org_drafter", people.password)
        page.goto(f"{live_server.url}/texts/{text.pk}/approval-form/")

        page.emulate_media(media="print")

        expect(page.locator("header.site")).to_be_hidden()
        expect(page.locator(".approval-tools")).to_be_hidden()
        expect(page.locator("table.approval-table").first).to_be_visible()
        checks.screenshot(page, "approval-form-print-zh")
    finally:
        context.close()


def test_a_text_page_prints_its_sections_without_header_or_forms(
    browser: Browser, live_server, people
):
    text = make_text(people["org_drafter"], people.org, title=TITLE)
    act(people["org_drafter"], text, "submit")
    context = open_context(browser)
    page = context.new_page()
    try:
        login(page, live_server, "org_reviewer", people.password)
        page.goto(f"{live_server.url}/texts/{text.pk}/")

        page.emulate_media(media="print")

        expect(page.locator("header.site")).to_be_hidden()
        for form in page.locator("main form").all():
            expect(form).to_be_hidden()
        expect(page.locator("#section-funding")).to_be_visible()
        expect(page.locator("#section-outcomes")).to_be_visible()
        checks.assert_no_horizontal_scroll(page)
        checks.screenshot(page, "text-print-zh")
    finally:
        context.close()


def test_the_notifications_list_marks_the_unread_and_fits_every_screen(
    any_page, live_server, people
):
    page = any_page
    for title in ("第一个项目", "第二个项目"):
        act(
            people["org_drafter"],
            make_text(people["org_drafter"], people.org, title=title),
            "submit",
        )
    login(page, live_server, "org_reviewer", people.password)

    page.goto(f"{live_server.url}/notifications/")

    items = page.locator("li.notification")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("第二个项目")  # newest first
    expect(page.locator("li.notification.unread")).to_have_count(2)
    checks.assert_no_horizontal_scroll(page)
    checks.assert_accessible(page)
    checks.screenshot(page, f"notifications-{page.variant}")  # type: ignore[attr-defined]

    page.locator("form.read-all button").click()

    expect(page.locator("li.notification.unread")).to_have_count(0)
    expect(page.locator("header.site .bell .count")).to_have_text("0")


def test_the_preferences_fit_every_screen_and_save_choices_per_kind(any_page, live_server, people):
    page = any_page
    login(page, live_server, "org_reviewer", people.password)

    page.goto(f"{live_server.url}/notifications/preferences/")

    expect(page.locator("form.preferences select[name=language]")).to_have_count(0)
    checks.assert_no_horizontal_scroll(page)
    checks.assert_accessible(page)
    checks.screenshot(page, f"preferences-{page.variant}")  # type: ignore[attr-defined]

    page.locator("input[name=email_results]").uncheck()
    page.locator("form.preferences button[type=submit]").click()

    expect(page.locator("ul.messages")).to_be_visible()
    assert Preference.objects.get(user=people["org_reviewer"]).email_results is False
    assert Preference.objects.get(user=people["org_reviewer"]).in_app_results is True


def test_the_header_switch_sets_the_language_for_the_next_sign_in(
    browser: Browser, live_server, people
):
    first = open_context(browser)
    page = first.new_page()
    try:
        login(page, live_server, "org_reviewer", people.password)
        page.locator("header.site form.lang select").select_option("en")
        page.locator("header.site form.lang button").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        first.close()
    assert Preference.objects.get(user=people["org_reviewer"]).language == "en"

    # Another browser, Chinese by its settings: the user's own language wins once signed in.
    second = open_context(browser, phone=True)
    page = second.new_page()
    try:
        login(page, live_server, "org_reviewer", people.password)
        expect(page.locator("html")).to_have_attribute("lang", "en")
        checks.assert_no_horizontal_scroll(page)
    finally:
        second.close()


def test_the_drafter_urges_from_the_text_page_with_a_confirmation(
    browser: Browser, live_server, people
):
    text = make_text(people["org_drafter"], people.org, title=TITLE)
    act(people["org_drafter"], text, "submit")
    context = open_context(browser, phone=True)
    page = context.new_page()
    try:
        login(page, live_server, "org_drafter", people.password)
        page.goto(f"{live_server.url}/texts/{text.pk}/")
        tools = page.locator(".text-tools")
        expect(tools).to_be_visible()

        page.wait_for_load_state()  # the confirmation is attached by the page's script
        tools.locator("form.urge button[type=submit]").click()
        dialog = page.locator("dialog.confirm")
        expect(dialog).to_contain_text(TITLE)
        checks.assert_accessible(page)
        dialog.locator("button.btn-primary").click()

        expect(page.locator("ul.messages")).to_contain_text("已催办")
        expect(page.locator(".text-tools")).to_contain_text("今日已催办")
        checks.assert_no_horizontal_scroll(page)
        checks.screenshot(page, "text-urged-phone-zh")
    finally:
        context.close()
