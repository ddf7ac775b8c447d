from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


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


class SecurityHeadersMiddleware:
    """A Content-Security-Policy on every page (the API docs need their inline bootstrap)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/api/docs"):
            response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
