"""DRF's authtoken keys (stored in clear, never expiring) become access tokens: hashed, with
their original issue time, so that the TOKEN_MAX_AGE_DAYS limit counts from then (an old one
ends at once) and the idle limit from this migration. Then DRF's table is dropped, so that no
key is left in clear; `rest_framework.authtoken` is no longer installed. A database that never
had the table (a fresh install) has nothing to carry over."""

import hashlib
from datetime import UTC, datetime

from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

DRF_TABLE = "authtoken_token"


def _aware(created: datetime | str) -> datetime:
    """SQLite gives the time as stored, naive and in UTC (or as text); PostgreSQL aware."""
    if isinstance(created, str):
        created = parse_datetime(created)
    return created if timezone.is_aware(created) else created.replace(tzinfo=UTC)


def carry_over(apps, schema_editor):
    connection = schema_editor.connection
    if DRF_TABLE not in connection.introspection.table_names():
        return
    AccessToken = apps.get_model("workflow", "AccessToken")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {DRF_TABLE}")  # noqa: S608 - a constant
        rows = cursor.fetchall()
    AccessToken.objects.bulk_create(
        AccessToken(
            user_id=user_id,
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            prefix=key[:8],
            label="authtoken",
            created_at=_aware(created),
            last_used_at=now,
        )
        for key, user_id, created in rows
    )
    schema_editor.execute(f"DROP TABLE {DRF_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("workflow", "0011_access_tokens")]

    operations = [migrations.RunPython(carry_over, migrations.RunPython.noop)]
