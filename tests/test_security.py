"""Login throttling, session expiry and the security headers every page carries."""


def login(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_five_failed_logins_lock_the_username_even_with_the_right_password(cast, client):
    for _ in range(5):
        assert login(client, "org_drafter", "wrong").status_code == 200

    response = login(client, "org_drafter", "test-pass-2025")

    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_login_clears_earlier_failures(cast, client):
    for _ in range(4):
        login(client, "org_drafter", "wrong")
    assert login(client, "org_drafter", "test-pass-2025").status_code == 302
    client.logout()
    for _ in range(4):
        login(client, "org_drafter", "wrong")
    assert login(client, "org_drafter", "test-pass-2025").status_code == 302


def test_the_token_endpoint_is_throttled_after_repeated_failures(cast, api):
    client = api()
    for _ in range(5):
        response = client.post(
            "/api/v1/auth/token/", {"username": "auditor", "password": "x"}, format="json"
        )
        assert response.status_code == 400

    response = client.post(
        "/api/v1/auth/token/",
        {"username": "auditor", "password": "test-pass-2025"},
        format="json",
    )

    assert response.status_code == 429


def test_a_session_expires_when_idle_and_with_the_browser(settings):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600


def test_an_expired_session_is_logged_out(cast, client, settings):
    settings.SESSION_COOKIE_AGE = 1
    client.force_login(cast.org_drafter)
    session = client.session
    session.set_expiry(-1)
    session.save()

    page = client.get("/")

    assert 'name="password"' in page.content.decode()


def test_pages_carry_a_content_security_policy_without_inline_script(cast, client):
    client.force_login(cast.org_drafter)
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_the_login_form_carries_a_csrf_token(client, db):
    assert "csrfmiddlewaretoken" in client.get("/accounts/login/").content.decode()


def test_one_address_guessing_at_many_usernames_is_locked_out(cast, client):
    for attempt in range(20):
        login(client, f"nobody{attempt}", "wrong")

    assert login(client, "org_drafter", "test-pass-2025").status_code == 429
