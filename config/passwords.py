"""An expired password (PASSWORD_MAX_AGE_DAYS, workflow.passwords) at both doors.

Pages: every page leads a signed-in user whose password has expired to the change page,
which says why; signing out, the language switch and the change page itself stay open.
API: every call by such a user answers 403 `{"detail": ..., "code": "password_expired"}`,
except `POST /api/v1/me/password/`. The token endpoint still issues tokens (it asks for the
password, and a script needs a token to change it); what a token can then do is change the
password and nothing else.

With expiry off (the default) neither costs a query.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect
from rest_framework.permissions import BasePermission

from workflow.exceptions import PasswordExpired
from workflow.passwords import expiry_message, password_expired

# The pages open to a user whose password has expired (view names). The header's bell polls
# every 30 s, on the change page too: sending the poll to the change page would reload that
# page under the user's typing.
OPEN_WHILE_EXPIRED = {
    "password-change",
    "login",
    "logout",
    "admin:logout",
    "set-language",
    "healthz",
    "notification-bell",
}


class PasswordExpiryMiddleware:
    """Send a signed-in user whose password has expired to the change page, from any page
    (the admin's too); the API answers for itself (PasswordNotExpired)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if not settings.PASSWORD_MAX_AGE_DAYS or request.path.startswith("/api/"):
            return None
        match = request.resolver_match
        if match is None or match.view_name in OPEN_WHILE_EXPIRED:
            return None
        if not password_expired(request.user):
            return None
        target = reverse("password-change")
        fragment = request.headers.get("HX-Request") == "true"
        if request.method == "GET" and not fragment:
            target += "?" + urlencode({"next": request.get_full_path()})
        if fragment:
            # A fragment (a page opened before the password expired) would get the change
            # page in its place: move the whole page there.
            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)


class PasswordNotExpired(BasePermission):
    """The API's answer to a user whose password has expired: 403 naming it."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if settings.PASSWORD_MAX_AGE_DAYS and password_expired(request.user):
            raise PasswordExpired(expiry_message())
        return True
