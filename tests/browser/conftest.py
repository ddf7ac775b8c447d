"""Browser tests: Playwright for Python driving Debian's chromium package.

`playwright install` cannot download browsers on these machines, so the tests launch
/usr/bin/chromium (`.ci/services` installs it, with the CJK font fonts-wqy-microhei, when it
is missing). Nothing is installed or downloaded at run time; the browser talks only to the
live server on the loopback interface (anything else is aborted and fails the test).

The server is pytest-django's `live_server` (a thread of this process, on a transactional
database), so the people are created by `people` under `transactional_db`, not by `cast`.
Browser tests are marked `postgres`: tests/conftest.py deselects them on SQLite.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Route,
    expect,
    sync_playwright,
)

from tests.factories import PASSWORD, DepartmentFactory, make_user
from workflow.states import Role

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
TIMEOUT_MS = 15_000
LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, launched once for the module.

    While Playwright's sync API is started, this thread reports a running asyncio loop, and
    Django refuses every ORM call (SynchronousOnlyOperation) -- here the fixtures' own ones:
    creating the people, the transactional database's flush. Those calls are synchronous and
    safe, so DJANGO_ALLOW_ASYNC_UNSAFE is set exactly while Playwright runs. Module scope, not
    session scope, so that both end with this module: the rest of the suite keeps Django's
    guard and sees no running loop.
    """
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's chromium package. "
            "Install it with `bash .ci/services` (apt-get install chromium fonts-wqy-microhei); "
            "`playwright install` cannot download browsers here.",
            pytrace=False,
        )
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if saved is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser context (cookies, storage) for each test."""
    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    outside = guard_the_network(context)
    try:
        yield context
    finally:
        context.close()
    if outside:
        pytest.fail(f"the pages requested addresses off this machine: {outside}")


def guard_the_network(context: BrowserContext) -> list[str]:
    """Nothing leaves the machine: a request to anything but the loopback live server is
    aborted and listed (the pages load nothing from a CDN); the caller fails on the list."""
    outside: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    return outside


def watch_for_script_errors(page: Page) -> list[str]:
    """The page's script errors (a CSP refusal, an exception in htmx, a stylesheet or
    script that fails to load), listed as they happen. A page answered 400, 403, 404 or 409
    on purpose is the test's own business: Chromium logs it as "Failed to load resource",
    which is not listed for a document the page navigated to."""
    errors: list[str] = []
    refused_documents: set[str] = set()

    def on_response(response: Any) -> None:
        if response.request.resource_type == "document" and response.status >= 400:
            refused_documents.add(response.url)

    def on_console(message: Any) -> None:
        if message.type != "error":
            return
        if message.text.startswith("Failed to load resource") and (
            message.location.get("url") in refused_documents
        ):
            return
        errors.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    return errors


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page of the test's context; script errors on it fail the test."""
    page = context.new_page()
    errors = watch_for_script_errors(page)
    yield page
    if errors:
        pytest.fail("script errors on the pages:\n" + "\n".join(errors))


def cjk_fonts() -> list[str]:
    """The font families fontconfig (a dependency of chromium) knows for Chinese."""
    listing = subprocess.run(
        ["/usr/bin/fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    )
    return [line for line in listing.stdout.splitlines() if line.strip()]


@pytest.fixture
def screenshots() -> Path:
    """The folder the screenshots go to (created; its path is printed). Without a CJK font
    every Chinese character in them would be a box: that fails here, clearly."""
    if not cjk_fonts():
        pytest.fail(
            "no CJK font: the screenshots would show boxes for every Chinese character. "
            "Install Debian's fonts-wqy-microhei (`bash .ci/services` does).",
            pytrace=False,
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {SCREENSHOTS}")
    return SCREENSHOTS


@dataclass
class People:
    """The demo's departments and users (the names of seed_demo), without its texts."""

    org: Any
    edu: Any
    users: dict[str, Any]
    password: str = PASSWORD

    def __getitem__(self, name: str) -> Any:
        return self.users[name]


@pytest.fixture
def people(transactional_db: None) -> People:
    """seed_demo's departments and users, but none of its texts: the test imports the sample
    through the page. Created on the transactional database the live server reads."""
    org = DepartmentFactory(code="org", name="中共新平彝族傣族自治县委员会组织部")
    edu = DepartmentFactory(code="edu", name="新平县教育体育局")
    users = {
        "org_drafter": make_user("org_drafter", Role.DRAFTER, org),
        "org_reviewer": make_user("org_reviewer", Role.DEPT_REVIEWER, org),
        "edu_drafter": make_user("edu_drafter", Role.DRAFTER, edu),
        "edu_reviewer": make_user("edu_reviewer", Role.DEPT_REVIEWER, edu),
        "finance": make_user("finance", Role.FINANCE_REVIEWER),
        "approver": make_user("approver", Role.APPROVER),
        "auditor": make_user("auditor", Role.AUDITOR),
    }
    return People(org=org, edu=edu, users=users)


def login(page: Page, live_server: Any, username: str, password: str) -> None:
    """Log in through the form at /accounts/login/, in whatever language the page is (the
    browser's), and wait for the user's page."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form.login button[type=submit]").click()
    expect(page.locator("header.site .who")).to_have_text(username)


def logout(page: Page) -> None:
    """Log out with the header's 退出 button; the visitor is back at the login form."""
    page.locator("header.site form.logout").get_by_role("button", name="退出").click()
    expect(page.locator("header.site .who")).to_have_count(0)
    expect(page.locator("input[name=password]")).to_be_visible()


def open_context(browser: Browser, *, phone: bool = False, english: bool = False) -> BrowserContext:
    """A context at a phone's 390×844 or the desktop's 1440×900, in Chinese or English
    (the language follows the browser's Accept-Language until the user picks one)."""
    context = browser.new_context(
        locale="en-US" if english else "zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 390, "height": 844} if phone else {"width": 1440, "height": 900},
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture(params=["desktop-zh", "phone-zh", "desktop-en", "phone-en"])
def any_page(request, browser: Browser) -> Iterator[Page]:
    """A page at each width and in each language: a test taking it runs four times.
    `any_page.variant` names the run ("phone-en"), for screenshot names."""
    variant = request.param
    context = open_context(
        browser, phone=variant.startswith("phone"), english=variant.endswith("en")
    )
    outside = guard_the_network(context)
    page = context.new_page()
    errors = watch_for_script_errors(page)
    page.variant = variant  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()
    if outside:
        pytest.fail(f"the pages requested addresses off this machine: {outside}")
    if errors:
        pytest.fail("script errors on the pages:\n" + "\n".join(errors))
