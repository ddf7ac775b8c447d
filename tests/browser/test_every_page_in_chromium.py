"""Every page, as each role sees it, in Chinese and English, at 1440×900 and at a phone's
390×844: no serious accessibility violation (axe-core), no horizontal scrolling on the phone,
no table cell narrower than four Chinese characters, and no Chinese left on an English page's
visible text. One screenshot per page and width goes to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from playwright.sync_api import Page

from submissions.models import Department, ProjectText
from submissions.sections import SECTION_FIELDS
from tests.browser import checks
from tests.browser.conftest import login
from tests.factories import act, make_text
from workflow.models import Decision

pytestmark = pytest.mark.postgres

CHINESE_RUN = re.compile(r"[\u4e00-\u9fff]+")


@dataclass
class Texts:
    draft: ProjectText
    returned: ProjectText
    in_review: ProjectText
    approved: ProjectText


@pytest.fixture
def texts(people) -> Texts:
    org = people.org
    draft = make_text(people["org_drafter"], org, title="草稿中的项目")
    returned = make_text(people["org_drafter"], org, title="被退回的项目")
    act(people["org_drafter"], returned, "submit")
    act(people["org_reviewer"], returned, "return", comment="金额偏高，请压减。", section="funding")
    in_review = make_text(people["org_drafter"], org, title="审核中的项目")
    act(people["org_drafter"], in_review, "submit")
    approved = make_text(people["org_drafter"], org, title="已批准的项目")
    for who, action in [
        ("org_drafter", "submit"),
        ("org_reviewer", "dept_approve"),
        ("finance", "finance_approve"),
        ("approver", "approve"),
    ]:
        act(people[who], approved, action)
    return Texts(draft, returned, in_review, approved)


def pages_of(role: str, texts: Texts) -> list[tuple[str, str]]:
    """(name, path) of every page the role uses."""
    common = [("home", "/"), ("texts", "/texts/"), ("notifications", "/notifications/")]
    common.append(("preferences", "/notifications/preferences/"))
    common.append(("not-found", "/texts/999999/"))
    common.append(("password", "/accounts/password/"))
    common.append(("tokens", "/accounts/tokens/"))
    common.append(("two-factor", "/accounts/two-factor/"))
    by_role = {
        "org_drafter": [
            ("new-text", "/texts/new/"),
            ("import", "/texts/import/"),
            ("inbox", "/inbox/"),
            ("returned-text", f"/texts/{texts.returned.pk}/"),
            ("edit-returned", f"/texts/{texts.returned.pk}/edit/"),
            ("draft-text", f"/texts/{texts.draft.pk}/"),
            ("approved-text", f"/texts/{texts.approved.pk}/"),
            ("approval-form", f"/texts/{texts.approved.pk}/approval-form/"),
            ("publications", "/publications/"),
        ],
        "org_reviewer": [
            ("inbox", "/inbox/"),
            ("text-in-review", f"/texts/{texts.in_review.pk}/"),
            ("delegations", "/delegations/"),
        ],
        "auditor": [
            ("audit", "/audit/"),
            ("audit-text", f"/audit/texts/{texts.approved.pk}/"),
        ],
    }
    return common + by_role[role]


def written_by_people() -> list[str]:
    """What users wrote, which stays Chinese on an English page: the texts, department
    names, reasons and comments."""
    # A language is offered in its own name (简体中文) in the header's switch.
    written = [str(name) for _code, name in settings.LANGUAGES]
    written += [d.name for d in Department.objects.all()]
    for text in ProjectText.objects.all():
        written += [text.title, *(getattr(text, name) for name in SECTION_FIELDS)]
    written += list(Decision.objects.values_list("comment", flat=True))
    return written


def chinese_not_written_by_people(page: Page) -> list[str]:
    """Runs of Chinese in the page's visible text that no user wrote: untranslated words."""
    written = written_by_people()
    runs = set(CHINESE_RUN.findall(page.evaluate("() => document.body.innerText")))
    return sorted(run for run in runs if not any(run in mine for mine in written))


@pytest.mark.parametrize("role", ["org_drafter", "org_reviewer", "auditor"])
def test_every_page_is_accessible_and_fits(any_page: Page, live_server, people, texts, role):
    page = any_page
    login(page, live_server, role, people.password)
    problems: list[str] = []
    for name, path in pages_of(role, texts):
        page.goto(f"{live_server.url}{path}")
        checks.screenshot(page, f"every-page-{role}-{name}-{page.variant}")
        problems += [f"{path}: {p}" for p in checks.accessibility_violations(page)]
        if page.variant.startswith("phone"):
            overflow = checks.horizontal_overflow(page)
            if overflow > 0:
                problems.append(f"{path}: {overflow}px of horizontal scrolling at 390px")
        problems += [f"{path}: cramped cell {c}" for c in checks.narrow_cells(page)]
        if page.variant.endswith("en"):
            problems += [
                f"{path}: Chinese on the English page: {c}"
                for c in chinese_not_written_by_people(page)
            ]
    assert problems == []
