"""Usable by keyboard alone: a reviewer who never touches the mouse skips to the content,
sees where the focus is at every step, returns a text with a reason, backs out of the
confirmation with Escape, and confirms with Enter."""

import pytest
from playwright.sync_api import Page, expect

from submissions.models import ProjectText
from tests.browser.conftest import login
from tests.factories import act, make_text

pytestmark = pytest.mark.postgres

REASON = "六、资金安排情况：测算依据不足，请补充。"
MAX_TABS = 200


def focused(page: Page) -> dict:
    """What has the focus: its tag, name, classes, the form it is in, and its outline."""
    return page.evaluate(
        """() => { const e = document.activeElement; const s = getComputedStyle(e);
            return {tag: e.tagName.toLowerCase(), name: e.getAttribute('name') || '',
                    cls: e.className || '', form: e.form ? e.form.className : '',
                    type: e.getAttribute('type') || '',
                    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0}; }"""
    )


def tab_to(page: Page, wanted) -> dict:
    """Press Tab until `wanted(focused)` holds; each stop must show where the focus is."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        now = focused(page)
        assert now["outline"], f"the focus is not visible on {now}"
        if wanted(now):
            return now
    pytest.fail("not reachable by Tab")


def test_a_reviewer_returns_a_text_with_the_keyboard_alone(page: Page, live_server, people):
    text = make_text(people["org_drafter"], people.org, title="键盘操作的项目")
    act(people["org_drafter"], text, "submit")
    login(page, live_server, "org_reviewer", people.password)
    page.goto(f"{live_server.url}/texts/{text.pk}/")

    page.keyboard.press("Tab")
    assert "skip-link" in focused(page)["cls"]
    expect(page.locator(".skip-link")).to_be_visible()

    tab_to(page, lambda f: f["name"] == "comment" and "action-return" in f["form"])
    page.keyboard.type(REASON)
    tab_to(page, lambda f: f["type"] == "submit" and "action-return" in f["form"])

    page.keyboard.press("Enter")
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("键盘操作的项目")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"

    page.locator("form.action-return button[type=submit]").focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Enter")  # the confirming button has the focus
    expect(page.locator("ul.messages")).to_be_visible()
    assert ProjectText.objects.get(pk=text.pk).state == "returned"
