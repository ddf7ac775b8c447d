"""Sign-in: one throttle for every way in (the login page, the admin's login, the token
endpoint), kept in the database that every web process shares, and every failure audited.

django-axes counts failures per username *and* client address (AXES_LOCKOUT_PARAMETERS):
after LOGIN_FAILURE_LIMIT failures within LOGIN_FAILURE_WINDOW seconds that pair is refused
(429), right password or not, until the window has passed. Keyed on the pair, one account's
failures never block another account, an office behind one address is not locked out by one
person's typos, and nobody can lock out someone else from another address.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError

from config.addresses import client_address
from workflow.services import record_failed_sign_in

# AbstractUser.username's max_length: no account has a longer name.
USERNAME_MAX_CHARS = 150


def throttled_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The username the throttle counts (AXES_USERNAME_CALLABLE): as typed, cut to the
    longest any account can have, so that a longer one still fits the count's row."""
    source = credentials if credentials is not None else getattr(request, "data", request.POST)
    return str(source.get("username") or "")[:USERNAME_MAX_CHARS]


def locked_message() -> str:
    return _("登录失败次数过多，请 %(n)d 分钟后再试。") % {"n": settings.LOGIN_FAILURE_WINDOW // 60}


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """What a locked-out sign-in gets (AXES_LOCKOUT_CALLABLE): 429, as JSON for the API."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": locked_message()}, status=429)
    context = {"form": None, "locked": True, "locked_message": locked_message()}
    return render(request, "submissions/login.html", context, status=429)


@receiver(user_login_failed, dispatch_uid="audit-failed-sign-in")
def audit_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    """Every failed sign-in, whatever path it came by, goes to the audit log.

    axes has already handled the failure (its receiver is connected first): a request it
    refused unchecked because the pair is locked out carries no failure count.
    """
    if request is None:
        return  # not a sign-in over HTTP (a script calling authenticate())
    locked = bool(getattr(request, "axes_locked_out", False))
    record_failed_sign_in(
        username=throttled_username(request, credentials),
        address=client_address(request),
        path=request.path[:200],
        checked=getattr(request, "axes_failures_since_start", None) is not None or not locked,
        locked=locked,
    )


class LoginView(auth_views.LoginView):
    template_name = "submissions/login.html"
    redirect_authenticated_user = True


class TokenView(ObtainAuthToken):
    """POST /api/v1/auth/token/ behind the same throttle as the login page."""

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError:
            # axes marks the request it refused, or whose failure reached the limit.
            if getattr(request, "axes_locked_out", False):
                raise Throttled(detail=locked_message()) from None
            raise
