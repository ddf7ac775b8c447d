"""Two-factor sign-in on the pages, the admin and the token endpoint.

The password is the first step. A user with a confirmed authenticator is then *not* signed in:
the session remembers who passed the password (for TWO_FACTOR_PENDING_SECONDS) and the second
step (/accounts/two-factor/verify/) asks for the authenticator's code or a recovery code;
only then does Django's login() run, with django-otp's login() marking the session verified.
A wrong or missing code counts as a failed sign-in for the throttle (config.login) and is
audited as `two_factor_failed`. A user who must have a second factor and has none is signed
in but held at the enrolment page (SecondFactorMiddleware) until they have one.
Who must: workflow.twofactor.
"""

import time
from typing import Any

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from rest_framework.exceptions import ValidationError

from config.addresses import client_address
from workflow.exceptions import InvalidInput, NotPermitted
from workflow.services import twofactor as service
from workflow.twofactor import is_enrolled, requires_second_factor

PENDING_KEY = "two_factor_pending"
# Marks a failed sign-in whose password was right and whose code was not: the throttle
# counts it, and the two-factor service (not config.login's receiver) audits it.
SECOND_FACTOR_MARK = "second_factor"


# --- First step: after the password ---------------------------------------------------------


class TwoStepLoginMixin:
    """For a LoginView: a user with an authenticator is sent to the second step instead of
    being signed in; everyone else is signed in as before."""

    request: HttpRequest

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not is_enrolled(user):
            return super().form_valid(form)  # type: ignore[misc]
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_success_url(),  # type: ignore[attr-defined]
            "since": time.time(),
        }
        return HttpResponseRedirect(reverse("two-factor-verify"))


def _pending_user(request: HttpRequest) -> tuple[Any, dict[str, Any]]:
    """Who passed the password step in this session, not long ago, and where they go next."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None, {}
    if time.time() - float(pending.get("since", 0)) > settings.TWO_FACTOR_PENDING_SECONDS:
        del request.session[PENDING_KEY]
        return None, {}
    user = get_user_model().objects.filter(pk=pending.get("user"), is_active=True).first()
    return user, pending


def _count_failure(request: Any, user: Any, *, marked: bool) -> None:
    """Tell the throttle (django-axes) that this sign-in failed."""
    credentials = {"username": user.get_username()}
    if marked:
        credentials[SECOND_FACTOR_MARK] = True
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)


def check_code(request: Any, user: Any, code: Any) -> Any:
    """The device that accepts `code` for `user`, or None; a failure is counted by the
    throttle and audited. `request.axes_locked_out` then says if it used the last try."""
    device = service.verify_code(user=user, code=code)
    if device is None:
        _count_failure(request, user, marked=True)
        service.record_failed_code(
            user=user,
            address=client_address(request),
            path=request.path[:200],
            missing=not service.normalise_code(code),
            locked=bool(getattr(request, "axes_locked_out", False)),
        )
    return device


# --- Second step -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """/accounts/two-factor/verify/: the code after the password."""
    from config.login import lockout_response

    user, pending = _pending_user(request)
    if user is None:
        return HttpResponseRedirect(settings.LOGIN_URL)
    error = ""
    if request.method == "POST":
        credentials = {"username": user.get_username()}
        if not AxesProxyHandler.is_allowed(request, credentials):
            _count_failure(request, user, marked=False)
            return lockout_response(request)
        device = check_code(request, user, request.POST.get("code"))
        if device is None:
            if getattr(request, "axes_locked_out", False):
                return lockout_response(request)
            error = _("验证码或恢复码不正确。")
        else:
            del request.session[PENDING_KEY]
            user.backend = pending["backend"]
            login(request, user)
            otp_login(request, device)
            target = pending.get("next") or settings.LOGIN_REDIRECT_URL
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = settings.LOGIN_REDIRECT_URL
            return HttpResponseRedirect(target)
    return render(
        request,
        "submissions/two_factor_verify.html",
        {"error": error, "username": user.get_username()},
        status=200,
    )


# --- Enrolment -------------------------------------------------------------------------------


def _qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


@login_required
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest) -> HttpResponse:
    """/accounts/two-factor/: set up an authenticator (secret and QR code, confirmed by a
    code), then see and renew the recovery codes, or turn it off where that is allowed."""
    user = request.user
    context: dict[str, Any] = {"required": requires_second_factor(user), "codes": None}
    status = 200
    action = request.POST.get("action") if request.method == "POST" else None
    try:
        if action == "enable":
            device, context["codes"] = service.enable(user=user, code=request.POST.get("code"))
            otp_login(request, device)  # the code just given verifies this session too
        elif action == "regenerate":
            context["codes"] = service.regenerate_recovery_codes(user=user)
        elif action == "disable":
            service.disable(actor=user, user=user)
            return HttpResponseRedirect(reverse("two-factor"))
        elif action is not None:
            status = 400
            context["error"] = _("未知的操作。")
    except InvalidInput as refused:
        status = 400
        context["error"] = " ".join(str(m) for ms in refused.errors.values() for m in ms)
    except NotPermitted as refused:
        status = 403
        context["error"] = str(refused)
    enrolled = is_enrolled(user)
    context["enrolled"] = enrolled
    if enrolled:
        context["remaining"] = sum(
            device.token_set.count() for device in user.staticdevice_set.filter(confirmed=True)
        )
    else:
        device = service.pending_authenticator(user)
        context["secret"] = _grouped(_base32(device))
        context["otpauth_url"] = device.config_url
        context["qr"] = _qr_data_uri(device.config_url)
    return render(request, "submissions/two_factor.html", context, status=status)


def _base32(device: Any) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode()


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- Holding back a session that owes its second factor --------------------------------------

# What a session held at enrolment may still reach (view names): the enrolment page, signing
# out, the language switches, and the password change page (an expired password is changed
# first: config.passwords holds the session there, and each must let the other through).
OPEN_TO_UNENROLLED = {
    "two-factor",
    "two-factor-verify",
    "logout",
    "admin:logout",
    "set-language",
    "set_language",
    "password-change",
}


class SecondFactorMiddleware:
    """After django-otp's middleware: a signed-in session that has not given a code either
    belongs to someone with an authenticator (signed in some other way, or before this was
    enforced: signed out, to sign in again with the code) or to someone who must have one
    and has none (held at the enrolment page: 403 for the API, an htmx poll gets nothing)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if is_enrolled(user):
            logout(request)
            return redirect_to_login(request.get_full_path())
        if not requires_second_factor(user):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_TO_UNENROLLED:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": must_enrol_message()}, status=403)
        if request.headers.get("HX-Request") == "true":
            return HttpResponse(status=204)
        return HttpResponseRedirect(reverse("two-factor"))


def must_enrol_message() -> str:
    return _("您的账户必须使用两步验证：请先在 /accounts/two-factor/ 设置认证器。")


# --- The token endpoint ----------------------------------------------------------------------


def require_token_code(request: Any, user: Any, code: Any) -> None:
    """POST /api/v1/auth/token/ after the password: the field `otp` must carry a code from
    the user's authenticator (or a recovery code) if they have one; a user who must have
    one and has none gets no token. 400 naming `otp` otherwise; a wrong or missing code
    counts as a failed sign-in."""
    if is_enrolled(user):
        if check_code(request, user, code) is None:
            raise ValidationError({"otp": [_("请在 otp 字段提供认证器当前的验证码或一个恢复码。")]})
    elif requires_second_factor(user):
        raise ValidationError({"otp": [must_enrol_message()]})
