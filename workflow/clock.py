"""Time as the database sees it, and working days.

Deadlines are set and swept by the database's clock, so that several web and worker
machines with drifting clocks agree on what is due.
"""

from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Func
from django.db.models.functions import Now
from django.utils import timezone


def db_now_in_statement() -> Func:
    """`db_now` as an expression, read within a statement that runs anyway (the action's
    lock): the same clock without a statement of its own."""
    return Now()


def db_now() -> datetime:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")
            value = datetime.fromisoformat(cursor.fetchone()[0]).replace(tzinfo=UTC)
        else:
            cursor.execute("SELECT CURRENT_TIMESTAMP")
            value = cursor.fetchone()[0]
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def add_period(start: datetime, period: dict[str, int]) -> datetime:
    """start + {"working_days": n} (Monday to Friday, local time) or + {"hours": n}."""
    if "hours" in period:
        return start + timedelta(hours=period["hours"])
    local = timezone.localtime(start)
    days = period.get("working_days", 0)
    while days > 0:
        local += timedelta(days=1)
        if local.weekday() < 5:
            days -= 1
    return local


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment `hours` of working time after `start`: working time is Monday to Friday,
    between settings.WORKING_HOURS (opening, closing; local times, default 09:00 and 17:00).
    Time outside it does not count: an hour before closing on Friday runs out an hour after
    opening on Monday. Public holidays are not known (as for deadlines)."""
    opening, closing = settings.WORKING_HOURS
    zone = timezone.get_default_timezone()
    remaining = timedelta(hours=hours)
    cursor = timezone.localtime(start, zone)
    # Each pass uses up one working day or ends: a week holds five.
    while True:
        day = cursor.date()
        if day.weekday() < 5:
            opens = datetime.combine(day, opening, tzinfo=zone)
            closes = datetime.combine(day, closing, tzinfo=zone)
            cursor = max(cursor, opens)
            if cursor < closes:
                if remaining <= closes - cursor:
                    return cursor + remaining
                remaining -= closes - cursor
        cursor = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
