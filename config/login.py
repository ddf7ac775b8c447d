"""Login with throttling: after LOGIN_FAILURE_LIMIT failures for one username (four times
as many from one address) within LOGIN_FAILURE_WINDOW seconds, further attempts are refused
(429) until the window has passed, whether the password is right or not."""

import hashlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError


def _keys(request: HttpRequest, username: str) -> list[str]:
    name = hashlib.sha256(username.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]
    address = request.META.get("REMOTE_ADDR", "")
    return [f"login-failures:user:{name}", f"login-failures:addr:{address}"]


def is_locked(request: HttpRequest, username: str) -> bool:
    # One address may try several usernames (a shared office), so it gets more room; a
    # success does not reset it, or one valid account would unlock guessing at the others.
    user_key, address_key = _keys(request, username)
    limit = settings.LOGIN_FAILURE_LIMIT
    return (cache.get(user_key) or 0) >= limit or (cache.get(address_key) or 0) >= 4 * limit


def record_failure(request: HttpRequest, username: str) -> None:
    for key in _keys(request, username):
        if cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW)


def clear_failures(request: HttpRequest, username: str) -> None:
    cache.delete(_keys(request, username)[0])


class ThrottledLoginView(auth_views.LoginView):
    template_name = "submissions/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        username = request.POST.get("username", "")
        if is_locked(request, username):
            form = AuthenticationForm(request, data=None)
            context = self.get_context_data(form=form, locked=True)
            return self.render_to_response(context, status=429)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            clear_failures(request, username)
        else:
            record_failure(request, username)
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("locked", False)
        context["locked_message"] = _("登录失败次数过多，请 %(n)d 分钟后再试。") % {
            "n": settings.LOGIN_FAILURE_WINDOW // 60
        }
        return context


class ThrottledTokenView(ObtainAuthToken):
    """POST /api/v1/auth/token/ with the same failure limit as the login form."""

    def post(self, request, *args, **kwargs):
        username = str(request.data.get("username", "")) if hasattr(request.data, "get") else ""
        if is_locked(request, username):
            raise Throttled(
                detail=_("登录失败次数过多，请 %(n)d 分钟后再试。")
                % {"n": settings.LOGIN_FAILURE_WINDOW // 60}
            )
        try:
            response = super().post(request, *args, **kwargs)
        except ValidationError:
            record_failure(request, username)
            raise
        clear_failures(request, username)
        return response
