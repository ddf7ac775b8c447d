"""Session expiry and the security headers every page carries (sign-in throttling:
tests/test_sign_in.py)."""


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
