"""The API docs (/api/docs/, Swagger UI) in Chromium, under their Content-Security-Policy: the
operations render and can be tried out, with no CSP violation (the `page` fixture fails the test
on any console error, a refused inline script or style among them)."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import login

pytestmark = pytest.mark.postgres


def test_the_api_docs_render_and_run_an_operation_under_their_csp(page: Page, live_server, people):
    login(page, live_server, "org_drafter", people.password)

    response = page.goto(f"{live_server.url}/api/docs/")

    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 10
    me = page.locator("#operations-v1-v1_me_retrieve")
    me.locator(".opblock-summary").click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    expect(me.locator(".live-responses-table .response .response-col_status")).to_have_text("200")
    expect(me.locator(".live-responses-table .response .microlight").first).to_contain_text(
        "org_drafter"
    )
