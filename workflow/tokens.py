"""Scripts' access tokens: what a key is, how it is stored, and when a token still counts.

A key is 256 random bits, shown to its owner once (the token endpoint's answer); only its
SHA-256 is stored, with its first characters to tell one's tokens apart. A token counts until
it is revoked, its user is deactivated, it has not been used for TOKEN_IDLE_WORKING_HOURS of
working time (workflow.clock.add_working_hours) or TOKEN_MAX_AGE_DAYS have passed since it was
issued (0 turns either limit off). Its last use is written at most once a minute
(workflow.services.tokens.note_use), so that checking a token costs one query.
"""

import hashlib
import math
import secrets
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from workflow import prepared
from workflow.clock import add_working_hours
from workflow.models import AccessToken

PREFIX_CHARS = 8
# A token's last use is written again only when the one stored is older than this.
USE_RESOLUTION = timedelta(minutes=1)

ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"


def new_key() -> str:
    return secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def find(key: str) -> AccessToken | None:
    """The token a key stands for, with its user: one statement, prepared (it runs on every
    request a script makes)."""
    sql, columns = _find_statement(connection.vendor)
    rows = prepared.fetch_all(sql, [digest(key)])
    if not rows:
        return None
    token, user = prepared.instances(rows[0], columns)
    AccessToken._meta.get_field("user").set_cached_value(token, user)
    return token


@cache
def _find_statement(vendor: str) -> tuple[str, tuple[prepared.Columns, ...]]:
    """`AccessToken.objects.select_related("user").filter(key_hash=...)`, written out once."""
    columns = (prepared.Columns.of(AccessToken, "k"), prepared.Columns.of(get_user_model(), "u"))
    quote = connection.ops.quote_name
    tokens, users = (quote(c.model._meta.db_table) for c in columns)
    select = ", ".join(c.sql for c in columns)
    joined = f"{tokens} k JOIN {users} u ON u.id = k.user_id"
    return f"SELECT {select} FROM {joined} WHERE k.key_hash = %s", columns  # noqa: S608


def expires_at(token: AccessToken) -> datetime | None:
    """When the token ends unless used again before (None: never)."""
    ends = []
    if settings.TOKEN_IDLE_WORKING_HOURS > 0:
        ends.append(add_working_hours(token.last_used_at, settings.TOKEN_IDLE_WORKING_HOURS))
    if settings.TOKEN_MAX_AGE_DAYS > 0:
        ends.append(token.created_at + timedelta(days=settings.TOKEN_MAX_AGE_DAYS))
    return min(ends) if ends else None


def status(token: AccessToken, now: datetime | None = None) -> str:
    if token.revoked_at is not None:
        return REVOKED
    ends = expires_at(token)
    if ends is not None and ends <= (now or timezone.now()):
        return EXPIRED
    return ACTIVE


def _idle_cutoff(now: datetime) -> datetime | None:
    """No token last used before this is still within the idle limit: a bound in calendar
    days (its working days, with a weekend for every five and one to spare), for the
    database to filter by; the exact limit is `status`."""
    hours = settings.TOKEN_IDLE_WORKING_HOURS
    if hours <= 0:
        return None
    opening, closing = settings.WORKING_HOURS
    daily = (closing.hour * 60 + closing.minute - opening.hour * 60 - opening.minute) / 60
    working_days = math.ceil(hours / daily)
    return now - timedelta(days=working_days + 2 * (working_days // 5 + 1) + 1)


def live_tokens(user_id: int | None = None) -> list[AccessToken]:
    """The tokens that still count (of one user, or everyone's), newest first."""
    now = timezone.now()
    tokens: QuerySet[AccessToken] = AccessToken.objects.filter(revoked_at__isnull=True)
    if user_id is not None:
        tokens = tokens.filter(user_id=user_id)
    if settings.TOKEN_MAX_AGE_DAYS > 0:
        tokens = tokens.filter(created_at__gt=now - timedelta(days=settings.TOKEN_MAX_AGE_DAYS))
    cutoff = _idle_cutoff(now)
    if cutoff is not None:
        tokens = tokens.filter(last_used_at__gt=cutoff)
    return [t for t in tokens.order_by("-created_at", "-id") if status(t, now) == ACTIVE]
