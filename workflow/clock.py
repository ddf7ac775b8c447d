"""Time as the database sees it, and working days.

Deadlines are set and swept by the database's clock, so that several web and worker
machines with drifting clocks agree on what is due.
"""

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone


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
