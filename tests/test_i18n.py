"""Chinese is the default language; English is complete: a page rendered in English shows
no Chinese but what the users themselves wrote."""

import re

import pytest
from django.conf import settings

from tests.factories import DepartmentFactory, act, make_text, make_user
from workflow.states import Role

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture
def english_world(db):
    department = DepartmentFactory(code="works", name="Public Works Bureau")
    drafter = make_user("drafter", Role.DRAFTER, department)
    reviewer = make_user("reviewer", Role.DEPT_REVIEWER, department)
    auditor = make_user("auditor", Role.AUDITOR)
    text = make_text(
        drafter,
        department,
        title="Road repair",
        basis="Law",
        implementer="Bureau",
        overview="Roads",
        content="Fix roads",
        funding="1,000.00 in all",
        amount="1000.00",
        plan="Spring",
        outcomes="Better roads",
    )
    act(drafter, text, "submit")
    act(reviewer, text, "return", comment="Too vague", section="funding")
    act(drafter, text, "submit")
    return {"drafter": drafter, "reviewer": reviewer, "auditor": auditor, "text": text}


def chinese_on(client, user, path: str) -> list[str]:
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(path)
    assert response.status_code == 200, path
    html = response.content.decode()
    html = html.replace("简体中文", "")  # the language switch names Chinese in Chinese
    return sorted(set(CJK.findall(html)))


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("drafter", "/"),
        ("drafter", "/texts/"),
        ("drafter", "/texts/new/"),
        ("drafter", "/texts/import/"),
        ("drafter", "/publications/"),
        ("drafter", "/texts/{id}/approval-form/"),
        ("drafter", "/texts/{id}/"),
        ("reviewer", "/texts/{id}/"),
        ("reviewer", "/texts/{id}/diff/"),
        ("reviewer", "/inbox/"),
        ("reviewer", "/notifications/"),
        ("reviewer", "/notifications/preferences/"),
        ("reviewer", "/delegations/"),
        ("auditor", "/audit/"),
        ("auditor", "/audit/texts/{id}/"),
        ("drafter", "/accounts/password/"),
        ("drafter", "/accounts/tokens/"),
        ("drafter", "/accounts/two-factor/"),
    ],
)
def test_every_page_is_complete_in_english(client, english_world, who, path):
    path = path.format(id=english_world["text"].pk)
    assert chinese_on(client, english_world[who], path) == []


def test_the_login_page_is_in_english_when_asked(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/accounts/login/").content.decode().replace("简体中文", "")
    assert CJK.findall(html) == []
    assert "Log in" in html or "Login" in html or "Sign in" in html


def test_chinese_is_the_default_language(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert "登录" in html
    assert 'lang="zh-hans"' in html
