"""End to end in headless Chromium (Playwright for Python, driving Debian's chromium): one of
the sample's texts from import to final approval, then the auditor's search, CSV and verify.

org_drafter imports the sample file, edits one text and submits it; org_reviewer returns it
with a reason pointing at 六、资金安排情况; the drafter sees the reason, changes the amount and
resubmits; the reviewer sees the diff showing exactly that change and approves; finance and
approver approve; auditor finds all of it in the search, exports CSV and sees 校验通过.
Screenshots of the drafter's list, the reviewer's diff and the auditor's search go to
test-artifacts/screenshots/ at the repository's root (the path is printed).
"""

import csv
import io
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import login, logout
from workflow import audit

pytestmark = pytest.mark.postgres

SAMPLE = Path(__file__).resolve().parents[3] / "shared/data/xinping-2025-org-dept-project-texts.txt"
TITLE = "新平县村级组织换届工作经费"
OTHER_TITLE = "新平县委组织部党建工作经费"
SECTION_HEADINGS = [
    "项目名称",
    "立项依据",
    "项目实施单位",
    "项目基本概况",
    "项目实施内容",
    "资金安排情况",
    "项目实施计划",
    "项目实施成效",
]
FIRST_EDIT = ("项目于2025年9月开展", "项目于2025年10月开展")
REASON = "六、资金安排情况：换届工作经费测算偏高，请压减100,000.00元后重新提交。"
OLD_AMOUNT, NEW_AMOUNT = "1,751,800.00元", "1,651,800.00元"


def state_of(page: Page):
    return page.locator("p.meta .state")


def expect_message(page: Page, text: str) -> None:
    expect(page.locator("ul.messages")).to_contain_text(text)


def text_without(locator: Locator, tag: str) -> str:
    """The element's text with every `tag` element (ins or del) left out."""
    return locator.evaluate(
        "(el, tag) => { const c = el.cloneNode(true);"
        " c.querySelectorAll(tag).forEach(e => e.remove()); return c.textContent; }",
        tag,
    )


def act(page: Page, action: str, button: str, comment: str = "") -> None:
    """Press the action form's button on the text page (with an optional comment)."""
    form = page.locator(f"form.action-{action}")
    expect(form).to_have_count(1)
    if comment:
        form.locator("textarea[name=comment]").fill(comment)
    # The confirmation is site.js's: a click before the page has loaded would send at once.
    page.wait_for_load_state()
    form.get_by_role("button", name=button, exact=True).click()
    # Every decision asks first, repeating what is decided on; confirming sends it.
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".confirm-action")).to_have_text(button)
    dialog.get_by_role("button", name=button, exact=True).click()
    expect_message(page, "成功。")


def open_from_inbox(page: Page, live_server, title: str) -> None:
    page.goto(f"{live_server.url}/inbox/")
    expect(page.locator("h1")).to_have_text("待我处理")
    page.locator("table.inbox").get_by_role("link", name=title, exact=True).click()
    expect(page.locator("h1.text-title")).to_have_text(title)


def test_the_harness_logs_in_and_screenshots_render_chinese(
    page: Page, live_server, people, screenshots
):
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()

    login(page, live_server, "org_drafter", people.password)

    expect(page.locator("header.site .who")).to_have_text("org_drafter")
    expect(page.locator("header.site nav")).to_contain_text("项目文本")
    expect(page.locator("main h1")).to_have_text("我的工作台")
    page.screenshot(path=screenshots / "00-home-org_drafter.png", full_page=True)


def test_a_text_from_import_to_approval_and_its_audit(page: Page, live_server, people, screenshots):
    started = time.monotonic()
    assert SAMPLE.is_file(), f"the sample file is missing: {SAMPLE}"
    password = people.password

    # --- org_drafter imports the sample file through the page --------------------------------
    login(page, live_server, "org_drafter", password)
    page.get_by_role("link", name="导入文件").first.click()
    expect(page.locator("h1")).to_have_text("导入项目文本")
    page.locator("input[type=file][name=file]").set_input_files(SAMPLE)
    page.get_by_role("button", name="识别", exact=True).click()

    expect(page.locator("main h2").first).to_contain_text(f"从 {SAMPLE.name} 识别出 2 份文本")
    previews = page.locator("section.parsed")
    expect(previews).to_have_count(2)
    expect(previews.locator("h3")).to_have_text([TITLE, OTHER_TITLE])
    expect(previews.locator(".amount")).to_have_text([OLD_AMOUNT, "1,227,700.00元"])
    expect(previews.locator(".department").first).to_have_text("中共新平彝族傣族自治县委员会组织部")
    expect(previews.locator(".year").first).to_have_text("2025")
    page.get_by_role("button", name="创建草稿", exact=True).click()

    expect_message(page, "已创建 2 份草稿。")
    expect(page.locator("h1")).to_have_text("项目文本")
    rows = page.locator("table.texts tbody tr")
    expect(rows).to_have_count(2)
    row = rows.filter(has=page.get_by_role("link", name=TITLE, exact=True))
    expect(row.locator("td.amount")).to_have_text(OLD_AMOUNT)
    expect(row.locator(".state")).to_have_text("编制中")
    expect(row).to_contain_text("中共新平彝族傣族自治县委员会组织部")
    page.screenshot(path=screenshots / "01-drafter-list.png", full_page=True)

    # --- the text's page: the sample's headings, amount and state; edit one section ----------
    row.get_by_role("link", name=TITLE, exact=True).click()
    expect(page).to_have_url(re.compile(r"/texts/\d+/$"))
    text_id = int(re.search(r"/texts/(\d+)/$", page.url).group(1))
    text_url = f"{live_server.url}/texts/{text_id}/"
    expect(page.locator("h1.text-title")).to_have_text(TITLE)
    expect(page.locator("article.text section h2")).to_have_text(SECTION_HEADINGS)
    expect(page.locator("p.meta .amount")).to_have_text(OLD_AMOUNT)
    expect(page.locator("#section-funding .amount")).to_have_text(OLD_AMOUNT)
    expect(state_of(page)).to_have_text("编制中")
    expect(page.locator("#section-plan .body")).to_contain_text(FIRST_EDIT[0])

    page.get_by_role("link", name="编辑", exact=True).click()
    expect(page).to_have_url(f"{text_url}edit/")
    expect(page.locator("h1")).to_have_text("编辑项目文本")
    plan = page.locator("form.text-form [name=plan]")
    plan.fill(plan.input_value().replace(*FIRST_EDIT))
    page.get_by_role("button", name="保存", exact=True).click()
    expect_message(page, "已保存。")
    expect(page).to_have_url(text_url)
    expect(page.locator("#section-plan .body")).to_contain_text(FIRST_EDIT[1])
    expect(page.locator("#section-plan .body")).not_to_contain_text(FIRST_EDIT[0])

    # ... and submits it.
    act(page, "submit", "提交")
    expect(state_of(page)).to_have_text("部门审核")
    expect(page.locator("p.meta")).to_contain_text("第 1 次提交")
    expect(page.get_by_role("link", name="编辑", exact=True)).to_have_count(0)
    logout(page)

    # --- org_reviewer returns it, pointing at 六、资金安排情况 ---------------------------------
    login(page, live_server, "org_reviewer", password)
    open_from_inbox(page, live_server, TITLE)
    expect(state_of(page)).to_have_text("部门审核")
    expect(page.locator("#section-plan .body")).to_contain_text(FIRST_EDIT[1])
    form = page.locator("form.action-return")
    form.locator("select[name=section]").select_option("funding")
    act(page, "return", "退回", comment=REASON)
    expect(state_of(page)).to_have_text("退回修改")
    decision = page.locator("#revision-1 li.decision-return")
    expect(decision.locator(".comment")).to_have_text(REASON)
    expect(decision.locator(".section-ref")).to_have_text("资金安排情况")
    logout(page)

    # --- the drafter sees the reason, changes the amount and resubmits -----------------------
    login(page, live_server, "org_drafter", password)
    page.goto(f"{live_server.url}/notifications/")
    expect(page.locator("h1")).to_have_text("通知")
    notice = page.locator("ul.notifications li.notification.unread")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text(TITLE)
    notice.get_by_role("link").click()
    expect(page).to_have_url(text_url)
    expect(state_of(page)).to_have_text("退回修改")
    decision = page.locator("#revision-1 li.decision-return")
    expect(decision).to_contain_text("org_reviewer")
    expect(decision.locator(".comment")).to_have_text(REASON)
    expect(decision.locator(".section-ref")).to_have_text("资金安排情况")
    decision.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "02-drafter-sees-the-reason.png", full_page=True)

    page.get_by_role("link", name="编辑", exact=True).click()
    amount = page.locator("form.text-form [name=amount]")
    expect(amount).to_have_value("1,751,800.00")
    amount.fill("1651800.00")
    funding = page.locator("form.text-form [name=funding]")
    assert OLD_AMOUNT in funding.input_value()
    funding.fill(funding.input_value().replace(OLD_AMOUNT, NEW_AMOUNT))
    page.get_by_role("button", name="保存", exact=True).click()
    expect_message(page, "已保存。")
    expect(page.locator("p.meta .amount")).to_have_text(NEW_AMOUNT)
    expect(page.locator("#section-funding .body")).to_contain_text(NEW_AMOUNT)

    act(page, "submit", "提交")
    expect(state_of(page)).to_have_text("部门审核")
    expect(page.locator("p.meta")).to_contain_text("第 2 次提交")
    page.goto(f"{live_server.url}/texts/")
    row = page.locator("table.texts tbody tr").filter(
        has=page.get_by_role("link", name=TITLE, exact=True)
    )
    expect(row.locator(".state")).to_have_text("部门审核")
    expect(row.locator("td.amount")).to_have_text(NEW_AMOUNT)
    logout(page)

    # --- the reviewer sees exactly that change in the diff, and approves ---------------------
    login(page, live_server, "org_reviewer", password)
    open_from_inbox(page, live_server, TITLE)
    page.get_by_role("link", name="修改对比", exact=True).click()
    expect(page).to_have_url(f"{text_url}diff/")
    expect(page.locator("main h1")).to_contain_text("修改对比")
    expect(page.locator("main h1")).to_contain_text(TITLE)
    expect(page.locator("form.against select[name=against]")).to_have_value("1")
    changed = page.locator(".diff section.changed")
    expect(changed).to_have_count(2)
    expect(changed.locator("h2")).to_have_text(["资金安排情况", "金额（元）"])
    for section in ("#diff-funding", "#diff-amount"):
        expect(page.locator(f"{section} del")).to_have_text(["7"])
        expect(page.locator(f"{section} ins")).to_have_text(["6"])
    # Read without the <del>, the section is the new text; without the <ins>, the old one.
    funding_diff = page.locator("#diff-funding .body")
    assert NEW_AMOUNT in text_without(funding_diff, "del")
    assert OLD_AMOUNT in text_without(funding_diff, "ins")
    assert text_without(page.locator("#diff-amount .body"), "del") == "1651800.00"
    assert text_without(page.locator("#diff-amount .body"), "ins") == "1751800.00"
    # The other seven sections and the fiscal year: unchanged.
    expect(page.locator(".diff details.unchanged")).to_have_count(8)
    expect(page.locator(".diff del")).to_have_count(2)
    expect(page.locator(".diff ins")).to_have_count(2)
    # The first edit was before the first submit: it is not part of this change.
    expect(page.locator("#diff-plan summary")).to_contain_text("未修改")
    page.screenshot(path=screenshots / "03-reviewer-diff.png", full_page=True)

    page.get_by_role("link", name=TITLE, exact=True).click()
    act(page, "dept_approve", "通过")
    expect(state_of(page)).to_have_text("财政审核")
    logout(page)

    # --- finance approves ---------------------------------------------------------------------
    login(page, live_server, "finance", password)
    open_from_inbox(page, live_server, TITLE)
    expect(page.locator("p.meta .amount")).to_have_text(NEW_AMOUNT)
    act(page, "finance_approve", "通过")
    expect(state_of(page)).to_have_text("待审批")
    logout(page)

    # --- the approver approves: the text is final ---------------------------------------------
    login(page, live_server, "approver", password)
    open_from_inbox(page, live_server, TITLE)
    act(page, "approve", "批准")
    expect(state_of(page)).to_have_text("已批准")
    expect(page.locator("div.actions form")).to_have_count(0)
    expect(page.get_by_role("link", name="编辑", exact=True)).to_have_count(0)
    expect(page.locator("#revision-2 li.decision")).to_have_count(3)
    logout(page)

    # --- the auditor finds all of it, exports CSV and sees the log verified -------------------
    audit.verify_and_keep()  # what beat's periodic verification does
    login(page, live_server, "auditor", password)
    page.get_by_role("link", name="审计", exact=True).click()
    expect(page.locator("main h1")).to_have_text("审计")
    expect(page).to_have_title(re.compile("^审计"))
    expect(page.locator("#verify .ok")).to_contain_text("校验通过")
    search = page.locator("form.audit-search")
    search.locator("input[name=text]").fill(str(text_id))
    search.get_by_role("button", name="查询", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/audit/\?.*text={text_id}"))
    events = page.locator("table.events tbody tr.event")
    # created by the import, edited, submitted, returned, edited, resubmitted, three approvals
    expect(events).to_have_count(9)
    expect(page.locator("table.events tbody tr.refused")).to_have_count(0)
    for who, what in [
        ("org_drafter", "编辑"),
        ("org_drafter", "提交"),
        ("org_reviewer", "退回"),
        ("org_reviewer", "部门审核通过"),
        ("finance", "财政审核通过"),
        ("approver", "批准"),
    ]:
        expect(events.filter(has_text=who).filter(has_text=what).first).to_be_visible()
    expect(events.filter(has_text="org_drafter").filter(has_text="提交")).to_have_count(2)
    expect(events.filter(has_text=REASON)).to_have_count(1)
    expect(events.filter(has_text="已批准")).to_have_count(1)
    page.screenshot(path=screenshots / "04-auditor-search.png", full_page=True)

    # A narrower search: who returned what, and why.
    search.locator("input[name=text]").fill("")
    search.locator("input[name=actor]").fill("org_reviewer")
    search.locator("select[name=action]").select_option("return")
    search.get_by_role("button", name="查询", exact=True).click()
    expect(events).to_have_count(1)
    expect(events).to_contain_text(REASON)
    expect(events).to_contain_text(f"#{text_id}")

    # Back to the whole history of the text, and export it.
    page.goto(f"{live_server.url}/audit/?text={text_id}")
    expect(events).to_have_count(9)
    export = page.get_by_role("link", name="导出 CSV", exact=True)
    # The people's CSV (the API's /api/v1/audit/export.csv stays the scripts' contract).
    expect(export).to_have_attribute("href", f"/audit/export.csv?text={text_id}")
    with page.expect_download() as download_info:
        export.click()
    download = download_info.value
    assert download.suggested_filename == "audit-events.csv"
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:20]
    body = raw.decode("utf-8-sig")
    assert REASON in body
    records = list(csv.DictReader(io.StringIO(body)))
    records.sort(key=lambda r: int(r["event_id"]))
    assert [(r["actor"], r["action_code"], r["outcome_code"]) for r in records] == [
        ("org_drafter", "create", "ok"),
        ("org_drafter", "edit", "ok"),
        ("org_drafter", "submit", "ok"),
        ("org_reviewer", "return", "ok"),
        ("org_drafter", "edit", "ok"),
        ("org_drafter", "submit", "ok"),
        ("org_reviewer", "dept_approve", "ok"),
        ("finance", "finance_approve", "ok"),
        ("approver", "approve", "ok"),
    ]
    assert {r["text_id"] for r in records} == {str(text_id)}
    returned = records[3]
    assert (returned["操作"], returned["结果"]) == ("退回", "成功")
    assert returned["意见"] == REASON
    assert "资金安排情况" in returned["说明"], returned
    assert (returned["from_state"], returned["to_state"]) == ("dept_review", "returned")
    assert (returned["阶段（前）"], returned["阶段（后）"]) == ("部门审核", "退回修改")
    amount_edit = records[4]
    assert "1,751,800.00元 → 1,651,800.00元" in amount_edit["变更字段"], amount_edit
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", amount_edit["时间"])
    expect(page.locator("#verify .ok")).to_contain_text("校验通过")

    elapsed = time.monotonic() - started
    print(f"end-to-end: {elapsed:.1f} s; screenshots in {screenshots}")
