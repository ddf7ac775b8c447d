"""`Authorization: Token <key>` for scripts (DESIGN.md, "HTTP API"), checked against our own
tokens (workflow.tokens): hashed, expiring, revocable. One query a request (the token with
its user), and a write at most once a minute per token to keep its idle limit moving.

A module of its own: DRF reads the authentication classes while its views are being
defined, so this must not import any view.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from workflow import tokens
from workflow.services.tokens import note_use

REFUSED = {
    None: _("访问令牌无效。"),
    tokens.EXPIRED: _("访问令牌已过期，请重新获取。"),
    tokens.REVOKED: _("访问令牌已撤销。"),
    "inactive": _("账户已停用。"),
}


class AccessTokenAuthentication(TokenAuthentication):
    """401 with `WWW-Authenticate: Token` for a key that is unknown, expired or revoked, or
    whose account is inactive; never a 500 for whatever the header holds."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = tokens.find(key)
        if token is None:
            raise exceptions.AuthenticationFailed(REFUSED[None])
        state = tokens.status(token)
        if state != tokens.ACTIVE:
            raise exceptions.AuthenticationFailed(REFUSED[state])
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(REFUSED["inactive"])
        note_use(token)
        return token.user, token
