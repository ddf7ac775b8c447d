"""On SQLite, where django-pgtrigger installs nothing, refuse UPDATE and DELETE on the audit
table with SQLite's own triggers. (SQLite has no TRUNCATE: its DELETE without WHERE fires
the trigger too.)"""

from django.db import migrations

TABLE = "workflow_audit_event"
TRIGGERS = {
    "audit_events_no_update": "UPDATE",
    "audit_events_no_delete": "DELETE",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name, operation in TRIGGERS.items():
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {operation} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'audit events are append-only: {operation} refused'); END"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("workflow", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
