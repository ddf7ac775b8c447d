"""/healthz: the database, the broker, and whether a worker answers within a second."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse


def _database() -> dict[str, object]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except Exception as error:  # any failure means "not healthy", reported, never raised
        return {"ok": False, "error": str(error)}


def _broker() -> dict[str, object]:
    if not settings.REDIS_URL:
        return {"ok": True, "mode": "in-process (no REDIS_URL)"}
    import redis

    try:
        # retry=None: a refused connection answers at once, not after ten retries.
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, retry=None).ping()
        return {"ok": True, "mode": "redis"}
    except Exception as error:  # reported, never raised
        return {"ok": False, "mode": "redis", "error": str(error)}


def _worker(broker: dict[str, object]) -> dict[str, object]:
    if not settings.REDIS_URL:
        return {"ok": True, "mode": "in-process (no REDIS_URL)"}
    if not broker["ok"]:
        return {"ok": False, "error": "broker unavailable"}
    from config.celery import app

    try:
        replies = app.control.ping(timeout=1.0)
    except Exception as error:  # reported, never raised
        return {"ok": False, "error": str(error)}
    names = sorted(name for reply in replies for name in reply)
    return {"ok": bool(names), "answered": names}


def healthz(request: HttpRequest) -> JsonResponse:
    broker = _broker()
    checks = {"database": _database(), "broker": broker, "worker": _worker(broker)}
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"ok": ok, **checks}, status=200 if ok else 503)
