"""The forms in Chromium (issue 9), in Chinese and English, at a desktop's and a phone's width:
the error summary at the top takes the focus and links to each field; the amount typed as
the pages show it is accepted and said in words beside it; leaving with unsaved changes
asks first; the edit page puts the return reason at the top; the login and delegations pages
are accessible and fit a phone."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Dialog, Page, expect

from tests.browser import checks
from tests.browser.conftest import login
from tests.factories import act, make_text
from workflow import services

pytestmark = pytest.mark.postgres

# A refused form is answered with its status (400, 409, 429) and the page again: Chromium
# logs that status as a console error, which is what the form is expected to do.


def english(page: Page) -> bool:
    return variant(page).endswith("en")


def phone(page: Page) -> bool:
    return variant(page).startswith("phone")


def variant(page: Page) -> str:
    return page.variant  # type: ignore[attr-defined]


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    checks.screenshot(page, name, full_page=full_page)


def test_the_error_summary_names_the_empty_sections_and_takes_the_focus(
    any_page: Page, live_server, people, screenshots
):
    page = any_page
    login(page, live_server, "org_drafter", people.password)
    page.goto(f"{live_server.url}/texts/new/")
    page.locator("#id_title").fill("新平县村级组织换届工作经费")
    page.locator("#id_amount").fill("1751800")
    page.locator("form.text-form button[name=then]").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    links = summary.locator("a")
    # Seven sections are empty: each is named by its label and linked to its field.
    expect(links).to_have_count(7)
    plan = "Implementation plan" if english(page) else "项目实施计划"
    expect(summary).to_contain_text("Please correct" if english(page) else "请修改以下 7 处")
    link = summary.get_by_role("link", name=plan, exact=True)
    expect(link).to_have_attribute("href", "#id_plan")
    expect(page.locator("#id_plan")).to_have_attribute("aria-invalid", "true")
    # The summary is at the top of the page, above the form.
    assert summary.bounding_box()["y"] < page.locator("form.text-form").bounding_box()["y"]
    shot(page, f"form-error-summary-{variant(page)}", full_page=False)

    link.click()
    expect(page.locator("#id_plan")).to_be_focused()
    checks.assert_accessible(page)
    if phone(page):
        checks.assert_no_horizontal_scroll(page)


def test_the_amount_as_displayed_is_accepted_and_said_in_words(
    any_page: Page, live_server, people, screenshots
):
    page = any_page
    login(page, live_server, "org_drafter", people.password)
    page.goto(f"{live_server.url}/texts/new/")
    page.locator("#id_title").fill("新平县村级组织换届工作经费")
    amount = page.locator("#id_amount")
    amount.click()
    amount.press_sequentially("1,751,800.00元")
    words = page.locator("#amount-words")
    expect(words).to_have_attribute("aria-live", "polite")
    said = "1,751,800.00 yuan" if english(page) else "大写：壹佰柒拾伍万壹仟捌佰元整"
    expect(words).to_have_text(said)
    amount.scroll_into_view_if_needed()
    shot(page, f"form-amount-capitals-{variant(page)}", full_page=False)
    if phone(page):
        checks.assert_no_horizontal_scroll(page)

    amount.fill("一百万")
    unread = "Not an amount that can be read" if english(page) else "无法识别的金额"
    expect(words).to_have_text(unread)
    amount.fill("１７５１８００．００")
    expect(words).to_have_text(said)

    page.get_by_role("button", name="Save" if english(page) else "保存", exact=True).click()
    expect(page.locator("p.meta .amount")).to_have_text(
        "1,751,800.00 yuan" if english(page) else "1,751,800.00元"
    )


def test_leaving_with_unsaved_changes_asks_first(any_page: Page, live_server, people):
    page = any_page
    login(page, live_server, "org_drafter", people.password)
    text = make_text(people["org_drafter"], people.org)
    page.goto(f"{live_server.url}/texts/{text.pk}/edit/")
    dialogs: list[str] = []

    def stay(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    plan = page.locator("#id_plan")
    plan.click()
    plan.press("End")
    plan.press_sequentially("补充")
    page.locator("form.text-form a.btn-link").click()
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    # Staying keeps what was typed.
    expect(page).to_have_url(f"{live_server.url}/texts/{text.pk}/edit/")
    expect(plan).to_have_value(text.plan + "补充")

    # Saving is not leaving: no question.
    page.get_by_role("button", name="Save" if english(page) else "保存", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/texts/{text.pk}/")
    assert dialogs == ["beforeunload"]


def test_the_edit_page_shows_the_return_reason_at_the_top(
    any_page: Page, live_server, people, screenshots
):
    page = any_page
    text = make_text(people["org_drafter"], people.org)
    act(people["org_drafter"], text, "submit")
    act(people["org_reviewer"], text, "return", comment="请写明实施的时间安排", section="plan")
    login(page, live_server, "org_drafter", people.password)
    page.goto(f"{live_server.url}/texts/{text.pk}/edit/")

    reason = page.locator(".reason-at-top")
    expect(reason).to_contain_text("请写明实施的时间安排")
    expect(reason).to_contain_text("org_reviewer")
    expect(reason).to_contain_text("Department review" if english(page) else "部门审核")
    assert reason.bounding_box()["y"] < page.locator("form.text-form").bounding_box()["y"]
    expect(page.locator(".section.field-plan")).to_have_class(re.compile(r"\bis-pointed\b"))
    shot(page, f"edit-reason-at-top-{variant(page)}", full_page=False)
    reason.locator("a.reason-section").click()
    expect(page.locator("#id_plan")).to_be_focused()
    checks.assert_accessible(page)
    if phone(page):
        checks.assert_no_horizontal_scroll(page)


def test_the_login_page_is_accessible_and_fits_a_phone(any_page: Page, live_server, people):
    page = any_page
    page.goto(f"{live_server.url}/accounts/login/")
    checks.assert_accessible(page)
    checks.assert_no_horizontal_scroll(page)
    shot(page, f"login-{variant(page)}")

    page.locator("#id_username").fill("org_drafter")
    page.locator("#id_password").fill("not-the-password")
    page.locator("form.login button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator("#id_username")).to_have_attribute("aria-invalid", "true")
    checks.assert_accessible(page)
    shot(page, f"login-refused-{variant(page)}")


def test_the_delegations_page_is_accessible_and_revoking_asks_first(
    any_page: Page, live_server, people
):
    page = any_page
    today = timezone.localdate()
    services.give_delegation(
        actor=people["org_reviewer"],
        to="edu_reviewer",
        starts=today.isoformat(),
        ends=(today + datetime.timedelta(days=10)).isoformat(),
    )
    login(page, live_server, "org_reviewer", people.password)
    page.goto(f"{live_server.url}/delegations/")
    checks.assert_accessible(page)
    checks.assert_no_horizontal_scroll(page)

    # A refused delegation: the summary at the top, linked to the field.
    page.locator("#id_to").fill("nobody")
    page.locator("#id_starts").fill(today.isoformat())
    page.locator("#id_ends").fill((today + datetime.timedelta(days=1)).isoformat())
    page.locator("form.delegation-form button[type=submit]").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("a[href='#id_to']")).to_have_count(1)
    checks.assert_accessible(page)
    checks.assert_no_horizontal_scroll(page)
    shot(page, f"delegations-refused-{variant(page)}")

    # Revoking asks, naming the delegate; cancelling changes nothing.
    page.on("dialog", lambda dialog: dialog.accept())  # leaving the refused form
    page.wait_for_load_state()  # the confirmation is attached by the page's script
    page.locator("ul.delegations form.inline button[type=submit]").first.click()
    confirm = page.locator("dialog.confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("edu_reviewer")
    shot(page, f"delegations-revoke-confirm-{variant(page)}", full_page=False)
    confirm.locator("button.btn-danger").click()
    expect(page.locator(".messages")).to_contain_text("revoked" if english(page) else "委托已撤销")
