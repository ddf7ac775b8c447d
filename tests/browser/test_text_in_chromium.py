"""The page of one text in Chromium (issue 9), in Chinese and English, at a desktop's and a
phone's width: the stage bar, the reason at the top with its section highlighted, the
confirmation that repeats the title and the amount (cancelling sends nothing, confirming
acts, the next waiting text is offered), and a stale page told it is stale, keeping what was
typed, without resending the form on reload. Accessible, no horizontal scrolling at 390 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from submissions.models import ProjectText
from tests.browser import checks
from tests.browser.conftest import login
from tests.factories import act, make_text, make_user
from workflow import services
from workflow.states import Role

pytestmark = pytest.mark.postgres

TITLE = "新平县村级组织换届工作经费"
REASON = "六、资金安排情况：换届工作经费测算偏高，请压减100,000.00元后重新提交。"


def text_at(people, state: str, **fields) -> ProjectText:
    """A text of org brought to `state` through the service."""
    text = make_text(people["org_drafter"], people.org, title=fields.pop("title", TITLE), **fields)
    path = {
        "dept_review": [("submit", "org_drafter")],
        "finance_review": [("submit", "org_drafter"), ("dept_approve", "org_reviewer")],
    }[state]
    for action, who in path:
        act(people[who], text, action)
    return ProjectText.objects.get(pk=text.pk)


def shot_name(what: str, variant: str) -> str:
    return f"text-{what}-{variant}"


def posts_of(page: Page) -> list[str]:
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    return sent


def test_the_stage_bar_says_where_the_text_is(any_page, live_server, people):
    page = any_page
    phone = page.variant.startswith("phone")
    text = text_at(people, "finance_review")
    login(page, live_server, "org_drafter", people.password)

    page.goto(f"{live_server.url}/texts/{text.pk}/")

    bar = page.locator("section.stage-bar")
    expect(bar).to_be_visible()
    steps = bar.locator("ol.stages > li")
    expect(steps).to_have_count(5)
    current = bar.locator('li[aria-current="step"]')
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("data-stage", "finance_review")
    expect(current.locator(".step-waiting")).to_contain_text("finance")
    expect(current.locator(".step-due")).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d"))
    expect(bar.locator('li[data-stage="dept_review"] .step-acts')).to_contain_text("org_reviewer")
    # A row of steps on a desktop, a vertical list on a phone.
    first, second = steps.nth(1).bounding_box(), steps.nth(2).bounding_box()
    if phone:
        assert second["y"] > first["y"] + first["height"] - 1
        checks.assert_no_horizontal_scroll(page)
    else:
        assert abs(second["y"] - first["y"]) < 2 and second["x"] > first["x"]
    # No step's words spill over the next one.
    overflowing = steps.evaluate_all(
        "items => items.filter(li => li.scrollHeight > li.clientHeight + 1)"
        ".map(li => li.dataset.stage)"
    )
    assert overflowing == []
    # The tools come right under the bar, the sections after.
    assert bar.bounding_box()["y"] < page.locator("article.text").bounding_box()["y"]
    checks.assert_accessible(page)
    checks.screenshot(page, shot_name("stage-bar", page.variant))


def test_the_reason_is_at_the_top_and_points_at_its_section(any_page, live_server, people):
    page = any_page
    text = text_at(people, "dept_review")
    act(people["org_reviewer"], text, "return", comment=REASON, section="funding")
    login(page, live_server, "org_drafter", people.password)

    page.goto(f"{live_server.url}/texts/{text.pk}/")

    reason = page.locator("section#reason")
    expect(reason).to_be_visible()
    expect(reason.locator(".reason-text")).to_have_text(REASON)
    expect(reason).to_contain_text("org_reviewer")
    funding = page.locator("#section-funding")
    expect(funding).to_have_class(re.compile(r"\bsection-pointed\b"))
    assert reason.bounding_box()["y"] < page.locator("#section-title").bounding_box()["y"]
    # The reason is in the first screen, not below the eight sections.
    assert reason.bounding_box()["y"] < page.viewport_size["height"] * 1.5
    if page.variant.startswith("phone"):
        checks.assert_no_horizontal_scroll(page)
    checks.assert_accessible(page)
    checks.screenshot(page, shot_name("reason-at-top", page.variant), full_page=False)
    reason.locator("a.section-link").click()
    expect(page).to_have_url(re.compile(r"#section-funding$"))
    expect(funding).to_be_in_viewport()


def test_deciding_asks_to_confirm_with_title_and_amount(any_page, live_server, people):
    page = any_page
    english = page.variant.endswith("en")
    text = text_at(people, "dept_review")
    following = text_at(people, "dept_review", title="新平县委组织部党建工作经费")
    login(page, live_server, "org_reviewer", people.password)
    page.goto(f"{live_server.url}/texts/{text.pk}/")
    amount = page.locator("p.meta .amount").inner_text()
    assert amount == ("1,751,800.00 yuan" if english else "1,751,800.00元")
    form = page.locator("form.action-return")
    form.locator("textarea[name=comment]").fill(REASON)
    form.locator("select[name=section]").select_option("funding")
    sent = posts_of(page)

    page.wait_for_load_state()  # the confirmation is attached by the page's script
    form.locator("button[type=submit]").click()

    dialog = page.locator("dialog.confirm")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".confirm-title")).to_have_text(TITLE)
    expect(dialog.locator(".confirm-amount")).to_have_text(amount)
    expect(dialog.locator(".confirm-action")).to_have_text("Return" if english else "退回")
    checks.screenshot(page, shot_name("decision-confirm", page.variant), full_page=False)
    checks.assert_accessible(page)
    # Cancelling sends nothing.
    dialog.get_by_role("button", name="Cancel" if english else "取消", exact=True).click()
    expect(dialog).to_have_count(0)
    assert sent == []
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"

    # Confirming acts, and the next waiting text is offered.
    form.locator("button[type=submit]").click()
    dialog.get_by_role("button", name="Return" if english else "退回", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/texts/{text.pk}/")
    expect(page.locator("p.meta .state")).to_have_class(re.compile("state-kind-returned"))
    assert len(sent) == 1
    assert ProjectText.objects.get(pk=text.pk).state == "returned"
    next_link = page.locator(".next-waiting a.next-link")
    expect(next_link).to_be_visible()
    expect(next_link).to_have_attribute("href", f"/texts/{following.pk}/")
    if page.variant.startswith("phone"):
        checks.assert_no_horizontal_scroll(page)
    checks.assert_accessible(page)
    checks.screenshot(page, shot_name("next-waiting", page.variant), full_page=False)


def test_the_decision_panel_comes_after_the_text(any_page, live_server, people):
    page = any_page
    text = text_at(people, "dept_review")
    login(page, live_server, "org_reviewer", people.password)

    page.goto(f"{live_server.url}/texts/{text.pk}/")

    panel = page.locator("section#decide")
    last = page.locator("#section-outcomes")
    assert panel.bounding_box()["y"] > last.bounding_box()["y"]
    styles = [
        page.locator(f"form.action-{a} button[type=submit]").get_attribute("class")
        for a in ("dept_approve", "return", "reject")
    ]
    assert [s.split()[-1] for s in styles] == ["btn-success", "btn-warning", "btn-danger"]
    panel.scroll_into_view_if_needed()
    if page.variant.startswith("phone"):
        checks.assert_no_horizontal_scroll(page)
    checks.assert_accessible(page)
    checks.screenshot(page, shot_name("decision-panel", page.variant), full_page=False)


def test_a_stale_page_says_so_keeps_the_reason_and_reloads_without_resending(
    any_page, live_server, people
):
    page = any_page
    english = page.variant.endswith("en")
    second = make_user("org_reviewer_2", Role.DEPT_REVIEWER, people.org)
    text = text_at(people, "dept_review")
    login(page, live_server, "org_reviewer", people.password)
    page.goto(f"{live_server.url}/texts/{text.pk}/")
    act(second, text, "dept_approve")  # someone else decides while the page is open
    form = page.locator("form.action-return")
    form.locator("textarea[name=comment]").fill(REASON)
    form.locator("button[type=submit]").click()
    sent = posts_of(page)

    with page.expect_response(re.compile(r"/act/$")) as answer:
        page.locator("dialog.confirm").get_by_role(
            "button", name="Return" if english else "退回", exact=True
        ).click()

    assert answer.value.status == 409
    stale = page.locator("#stale")
    expect(stale).to_be_visible()
    expect(stale).to_contain_text("Finance review" if english else "现在是「财政审核」")
    expect(stale).to_contain_text("org_reviewer_2")
    expect(stale.locator(".typed-comment")).to_have_text(REASON)
    expect(page.locator("body")).not_to_contain_text("您不是此阶段的审核人")
    expect(page.locator("body")).not_to_contain_text("not a reviewer")
    # The address is the text's own: a reload asks for the page, it does not resend.
    expect(page).to_have_url(f"{live_server.url}/texts/{text.pk}/")
    if page.variant.startswith("phone"):
        checks.assert_no_horizontal_scroll(page)
    checks.assert_accessible(page)
    checks.screenshot(page, shot_name("stale-refusal", page.variant))
    posted = len(sent)
    page.reload()
    expect(page.locator("h1.text-title")).to_have_text(TITLE)
    assert len(sent) == posted == 1
    assert ProjectText.objects.get(pk=text.pk).state == "finance_review"


def test_the_diff_shows_the_reason_beside_its_section_and_the_panel(any_page, live_server, people):
    page = any_page
    text = text_at(people, "dept_review")
    act(people["org_reviewer"], text, "return", comment=REASON, section="funding")
    services.edit_text(
        actor=people["org_drafter"],
        text_id=text.pk,
        version=ProjectText.objects.get(pk=text.pk).version,
        data={"funding": "安排1,651,800.00元，主要用于换届工作。", "amount": "1651800.00"},
    )
    act(people["org_drafter"], text, "submit")
    login(page, live_server, "org_reviewer", people.password)

    page.goto(f"{live_server.url}/texts/{text.pk}/diff/")

    funding = page.locator("#diff-funding")
    expect(funding).to_have_class(re.compile(r"\bsection-pointed\b"))
    expect(funding.locator(".reason-box .reason-text")).to_have_text(REASON)
    panel = page.locator("section#decide")
    expect(panel.locator("form.action-dept_approve button[type=submit]")).to_be_visible()
    assert panel.bounding_box()["y"] > page.locator("div.diff").bounding_box()["y"]
    if page.variant.startswith("phone"):
        checks.assert_no_horizontal_scroll(page)
    checks.assert_accessible(page)
    checks.screenshot(page, shot_name("diff-reason-and-panel", page.variant))
