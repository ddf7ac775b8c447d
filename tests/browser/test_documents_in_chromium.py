"""The 审批表 page of an approved text with all its tables (资金明细 with its 合计, 分年度资金,
milestones, 绩效指标) in Chromium, on a desktop and a phone, in Chinese and English: it fits
the screen (no horizontal scroll, no cramped cell), passes axe, offers its Word and PDF files;
and the 公开文本 page.

Screenshots: approval-sheet-tables-{desktop,phone}-{zh,en}, publications-{variant}."""

import pytest
from playwright.sync_api import expect

from submissions import tables
from submissions.demo_content import ELECTION_TITLE, ENRICHMENT
from submissions.models import ProjectText
from tests.browser import checks
from tests.browser.conftest import login
from tests.factories import act, make_text

pytestmark = pytest.mark.postgres


def approved_enriched(people) -> ProjectText:
    content = ENRICHMENT[ELECTION_TITLE]
    text = make_text(people["org_drafter"], people.org, title=ELECTION_TITLE, **content)
    act(people["org_drafter"], text, "submit")
    act(people["org_reviewer"], text, "dept_approve", comment="同意上报")
    act(people["finance"], text, "finance_approve", comment="资金测算合理，同意")
    act(people["approver"], text, "approve", comment="同意立项")
    return ProjectText.objects.get(pk=text.pk)


def test_the_approval_sheet_with_its_tables_fits_every_screen(any_page, live_server, people):
    page = any_page
    text = approved_enriched(people)
    login(page, live_server, "org_drafter", people.password)

    page.goto(f"{live_server.url}/texts/{text.pk}/approval-form/")

    form = page.locator("article.approval-form")
    breakdown = page.locator("table.table-breakdown tr.doc-row")
    expect(breakdown).to_have_count(len(ENRICHMENT[ELECTION_TITLE]["breakdown"]))
    expect(page.locator("table.table-indicators tr.doc-row")).to_have_count(
        len(ENRICHMENT[ELECTION_TITLE]["indicators"])
    )
    expect(page.locator("table.table-breakdown tr.total-row")).to_contain_text("1,751,800.00")
    expect(form).to_contain_text(ENRICHMENT[ELECTION_TITLE]["milestones"][0]["task"])
    expect(page.locator(f'a[href="/texts/{text.pk}/approval-form.pdf"]')).to_be_visible()
    if page.variant.startswith("phone"):  # type: ignore[attr-defined]
        # Each row is a card that names its cells' columns.
        label = str(tables.BREAKDOWN.column("item").label)
        cell = breakdown.first.locator("td").first
        assert cell.get_attribute("data-label") in (label, "Item")
        expect(page.locator("table.table-breakdown thead")).to_be_hidden()
    checks.assert_no_horizontal_scroll(page)
    checks.assert_cells_wide_enough(page)
    checks.assert_accessible(page)
    checks.screenshot(page, f"approval-sheet-tables-{page.variant}")  # type: ignore[attr-defined]


def test_the_publications_page_fits_every_screen(any_page, live_server, people):
    page = any_page
    approved_enriched(people)
    login(page, live_server, "org_drafter", people.password)

    page.goto(f"{live_server.url}/texts/")
    page.locator("a.publications-link").click()

    expect(page.locator("tr.bundle")).to_have_count(1)
    expect(page.locator('a[href="/publications/org/2025.pdf"]')).to_be_visible()
    checks.assert_no_horizontal_scroll(page)
    checks.assert_cells_wide_enough(page)
    checks.assert_accessible(page)
    checks.screenshot(page, f"publications-{page.variant}")  # type: ignore[attr-defined]
