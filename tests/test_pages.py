"""The home page (the working pages are issue 4)."""


def test_a_visitor_who_is_not_logged_in_gets_the_login_form(client, db):
    page = client.get("/")
    assert page.status_code == 200
    assert "登录" in page.content.decode()
    assert 'name="password"' in page.content.decode()


def test_logging_in_with_the_form_leads_home(cast, client):
    response = client.post(
        "/accounts/login/", {"username": "org_drafter", "password": "test-pass-2025"}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"] == cast.org_drafter


def test_home_lists_the_users_own_texts_and_escapes_them(cast, client):
    cast.text(title="<script>alert(1)</script>")
    client.force_login(cast.org_drafter)

    html = client.get("/").content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html


def test_home_does_not_list_another_departments_texts(cast, client):
    cast.text(title="组织部的项目")
    client.force_login(cast.edu_drafter)
    assert "组织部的项目" not in client.get("/").content.decode()
