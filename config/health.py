"""/healthz: the database, the broker, and whether a worker answers within a second.

Anyone gets the overall answer, {"ok": ...} with 200 or 503, which is all a load balancer or
a compose health check needs. The per-part details (the database vendor, the broker's mode,
each error's text, which may name addresses) are for operators only: a logged-in staff user,
or a monitor sending "Authorization: Bearer <HEALTHZ_TOKEN>"."""

import hmac

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

from config.middleware import background_poll


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


def _is_operator(request: HttpRequest) -> bool:
    token = settings.HEALTHZ_TOKEN
    if token:
        offered = request.headers.get("Authorization", "").encode()
        if hmac.compare_digest(offered, f"Bearer {token}".encode()):
            return True
    try:
        return bool(request.user.is_authenticated and request.user.is_staff)
    except DatabaseError:  # sessions live in the database: while it is down, nobody is known
        return False


# A probe, not a user's activity: it does not renew the caller's session (and so does not
# write to a database that may be down).
@background_poll
def healthz(request: HttpRequest) -> JsonResponse:
    broker = _broker()
    checks = {"database": _database(), "broker": broker, "worker": _worker(broker)}
    ok = all(check["ok"] for check in checks.values())
    body = {"ok": ok, **checks} if _is_operator(request) else {"ok": ok}
    return JsonResponse(body, status=200 if ok else 503)
