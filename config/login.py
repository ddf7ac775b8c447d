"""Sign-in: one throttle for every way in (the login page, the admin's login, the token
endpoint), kept in the database that every web process shares; every sign-in, sign-out and
failure audited on the account's stream (workflow.services.signin), with the client's address
(config.addresses) and the way in.

django-axes counts failures per username *and* client address (AXES_LOCKOUT_PARAMETERS):
after LOGIN_FAILURE_LIMIT failures within LOGIN_FAILURE_WINDOW seconds that pair is refused
(429), right password or not, until the window has passed. Keyed on the pair, one account's
failures never block another account, an office behind one address is not locked out by one
person's typos, and nobody can lock out someone else from another address.

After the password, whoever has an authenticator gives its code (config.two_factor); a wrong
or missing code counts here as a failed sign-in too.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.response import Response

from config.addresses import client_address
from config.two_factor import SECOND_FACTOR_MARK, TwoStepLoginMixin, require_token_code
from workflow.services import issue_token, record_failed_sign_in, record_sign_in, record_sign_out
from workflow.services.signin import WAY_ADMIN, WAY_PAGE, WAY_TOKEN

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
    if credentials.get(SECOND_FACTOR_MARK):
        return  # the right password, a wrong code: audited as two_factor_failed
    locked = bool(getattr(request, "axes_locked_out", False))
    record_failed_sign_in(
        username=throttled_username(request, credentials),
        address=client_address(request),
        path=request.path[:200],
        checked=getattr(request, "axes_failures_since_start", None) is not None or not locked,
        locked=locked,
    )


def way_in(request: HttpRequest) -> str:
    """Which way in a sign-in (or sign-out) came: the admin's, the token endpoint or the
    pages."""
    if request.path.startswith(reverse("admin:index")):
        return WAY_ADMIN
    if request.path == reverse("api-token"):
        return WAY_TOKEN
    return WAY_PAGE


def _where(request: HttpRequest) -> dict[str, str]:
    return {"address": client_address(request), "way": way_in(request), "path": request.path}


@receiver(user_logged_in, dispatch_uid="audit-sign-in")
def audit_sign_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """Every session sign-in, by the pages or the admin, goes to the audit log."""
    if request is not None and user is not None:
        record_sign_in(user=user, **_where(request))


@receiver(user_logged_out, dispatch_uid="audit-sign-out")
def audit_sign_out(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """A sign-out of someone who was signed in (logging out a visitor records nothing)."""
    if request is not None and user is not None:
        record_sign_out(user=user, **_where(request))


class LoginView(TwoStepLoginMixin, auth_views.LoginView):
    template_name = "submissions/login.html"
    redirect_authenticated_user = True


class SecondFactorTokenSerializer(AuthTokenSerializer):
    """Username and password, and the one-time code of a user who has an authenticator."""

    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        write_only=True,
        help_text="6-digit code from the authenticator, or a recovery code (two-factor users).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        require_token_code(self.context["request"], attrs["user"], attrs.get("otp"))
        return attrs


class TokenView(ObtainAuthToken):
    """POST /api/v1/auth/token/ behind the same throttle as the login page: a new token for
    each call (workflow.services.issue_token, which records the sign-in)."""

    serializer_class = SecondFactorTokenSerializer

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except ValidationError:
            # axes marks the request it refused, or whose failure reached the limit.
            if getattr(request, "axes_locked_out", False):
                raise Throttled(detail=locked_message()) from None
            raise
        _token, key = issue_token(
            user=serializer.validated_data["user"],
            address=client_address(request),
            path=request.path,
            label=request.META.get("HTTP_USER_AGENT", ""),
        )
        return Response({"token": key})
