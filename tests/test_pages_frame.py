"""What every page shares: a header that offers only what the user may use, and styled,
translated pages for a missing page, a forbidden one and a bad request (never Django's bare
English "Not Found")."""

import re

import pytest
from django.test import Client
from django.utils import translation

from tests.factories import make_user, sign_in_with_code
from workflow.states import Role


def nav_links(client: Client, user, sign_in=Client.force_login) -> str:
    sign_in(client, user)
    html = client.get("/").content.decode()
    return html[html.index("<nav") : html.index("</nav>")]


def test_the_audit_link_is_offered_to_an_auditor(cast, client):
    assert 'href="/audit/"' in nav_links(client, cast.auditor)


@pytest.mark.parametrize("who", ["org_drafter", "org_reviewer", "finance", "approver"])
def test_the_audit_link_is_not_offered_to_anyone_else(cast, client, who):
    assert 'href="/audit/"' not in nav_links(client, getattr(cast, who))


def test_a_pure_auditor_is_not_offered_an_inbox_or_delegations(cast, client):
    links = nav_links(client, cast.auditor)
    assert 'href="/inbox/"' not in links
    assert 'href="/delegations/"' not in links


def test_a_reviewer_is_offered_the_inbox_and_delegations(cast, client):
    links = nav_links(client, cast.org_reviewer)
    assert 'href="/inbox/"' in links
    assert 'href="/delegations/"' in links


def test_a_drafter_is_offered_the_inbox_for_returned_texts_but_not_delegations(cast, client):
    links = nav_links(client, cast.org_drafter)
    assert 'href="/inbox/"' in links
    assert 'href="/delegations/"' not in links


def test_the_current_page_is_marked_in_the_navigation(cast, client):
    client.force_login(cast.org_reviewer)
    html = client.get("/inbox/").content.decode()
    assert 'aria-current="page" href="/inbox/"' in html


def test_a_missing_text_is_a_styled_chinese_404_page(cast, client):
    client.force_login(cast.org_drafter)
    response = client.get("/texts/999999/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "找不到页面" in html
    assert "bootstrap.min.css" in html
    assert "Not Found" not in html


def test_another_departments_text_is_the_same_404_as_a_missing_one(cast, client):
    text = cast.text()
    client.force_login(cast.edu_drafter)
    response = client.get(f"/texts/{text.pk}/")
    assert response.status_code == 404
    assert "找不到页面" in response.content.decode()


def test_an_unknown_address_is_a_styled_404_page_in_english_for_an_english_reader(cast, client):
    client.force_login(cast.org_drafter)
    response = client.get("/no-such-page/", headers={"accept-language": "en"})
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html
    assert "找不到页面" not in html


def test_a_bad_parameter_on_a_page_is_a_page_not_a_500(cast, client):
    client.force_login(cast.org_drafter)
    response = client.get("/texts/?fiscal_year=abc")
    assert response.status_code == 400
    assert "bootstrap.min.css" in response.content.decode()


def test_the_500_page_renders_without_a_request(db):
    """Django renders 500.html with no request and no context processors: it must still
    render (a failing error page would hide the error)."""
    from django.template import loader

    with translation.override("zh-hans"):
        html = loader.get_template("500.html").render({})
    assert "系统出错" in html


def test_the_403_page_is_styled_and_says_what_to_do(db):
    from django.template import loader

    with translation.override("zh-hans"):
        html = loader.get_template("403.html").render({})
    assert "没有权限" in html
    assert "管理员" in html


def test_someone_with_no_role_sees_no_work_links(db, client):
    nobody = make_user("nobody")
    links = nav_links(client, nobody)
    assert 'href="/inbox/"' not in links
    assert 'href="/audit/"' not in links


def test_an_administrator_is_offered_the_administration(cast, client):
    assert 'href="/admin/"' in nav_links(client, cast.admin)


def test_a_department_reviewer_is_not_offered_the_administration(cast, client):
    assert 'href="/admin/"' not in nav_links(client, cast.org_reviewer)


def test_a_role_granted_today_shows_in_the_navigation_at_once(cast, client):
    newcomer = make_user("newcomer", Role.AUDITOR)
    # An auditor outside the cast signs in with a code (workflow.twofactor).
    assert 'href="/audit/"' in nav_links(client, newcomer, sign_in_with_code)


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=", re.IGNORECASE)


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("org_drafter", "/"),
        ("org_drafter", "/texts/"),
        ("org_drafter", "/texts/new/"),
        ("org_drafter", "/texts/import/"),
        ("org_drafter", "/texts/{id}/"),
        ("org_drafter", "/texts/{id}/edit/"),
        ("org_reviewer", "/inbox/"),
        ("org_reviewer", "/delegations/"),
        ("org_drafter", "/notifications/"),
        ("org_drafter", "/notifications/preferences/"),
        ("auditor", "/audit/"),
        ("auditor", "/audit/texts/{id}/"),
        ("org_drafter", "/texts/999999/"),
    ],
)
def test_no_page_carries_inline_script_or_style(cast, client, who, path):
    """The Content-Security-Policy refuses them: a page that relied on one would break."""
    text = cast.text()
    client.force_login(getattr(cast, who))
    html = client.get(path.format(id=text.pk)).content.decode()
    assert INLINE.findall(html) == []
