from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRefresh

View = Callable[..., HttpResponse]


class RequestGuardMiddleware:
    """Refuse an oversized body with 413 before anything reads it, and a query string
    carrying NUL (which PostgreSQL cannot compare with) with 400."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Content-Length 无效。"}, status=400)
        if length > settings.MAX_REQUEST_BYTES:
            return JsonResponse(
                {"detail": f"请求过大：最多 {settings.MAX_REQUEST_BYTES} 字节。"}, status=413
            )
        for key, value in request.GET.items():
            if "\x00" in key or "\x00" in value:
                return JsonResponse({key: ["查询参数不能包含空字符（NUL）。"]}, status=400)
        return self.get_response(request)


def background_poll(view: View) -> View:
    """Mark a view that pages call by themselves (an htmx poll) or that monitors probe, the way
    csrf_exempt marks one: IdleSessionMiddleware does not count it as the user's activity."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, *args, **kwargs)

    wrapper.background_poll = True  # type: ignore[attr-defined]
    return wrapper


class IdleSessionMiddleware(SessionMiddleware):
    """Django's session middleware, but a background poll does not renew the session.

    SESSION_SAVE_EVERY_REQUEST pushes the session's expiry SESSION_COOKIE_AGE ahead on every
    request; counting the header bell's 30 s poll too would keep an open tab signed in for
    ever. When a poll finds its session ended, the page is told to reload (and so shows the
    login form) instead of receiving the login form in place of its fragment."""

    def process_view(
        self, request: HttpRequest, view_func: View, view_args: Any, view_kwargs: Any
    ) -> None:
        request.background_poll = getattr(view_func, "background_poll", False)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not getattr(request, "background_poll", False):
            return super().process_response(request, response)
        if request.headers.get("HX-Request") == "true" and _sent_to_login(response):
            return HttpResponseClientRefresh()
        if request.session.modified:
            return super().process_response(request, response)
        if request.session.accessed:
            patch_vary_headers(response, ("Cookie",))
        return response


def _sent_to_login(response: HttpResponse) -> bool:
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    return urlsplit(response["Location"]).path == resolve_url(settings.LOGIN_URL)


class SecurityHeadersMiddleware:
    """A Content-Security-Policy on every response; the API docs (Swagger UI) get their own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = (
            settings.API_DOCS_CONTENT_SECURITY_POLICY
            if getattr(request.resolver_match, "url_name", None) == "api-docs"
            else settings.CONTENT_SECURITY_POLICY
        )
        response.setdefault("Content-Security-Policy", policy)
        return response
