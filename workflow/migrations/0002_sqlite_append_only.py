"""On SQLite, where django-pgtrigger installs nothing, SQLite's own triggers refuse UPDATE and
DELETE on the audit events and on decisions. (SQLite has no TRUNCATE: a DELETE without
WHERE fires the trigger too.)"""

from django.db import migrations

PROTECTED = {
    "workflow_audit_event": "audit events are append-only",
    "workflow_decision": "decisions are immutable",
}
OPERATIONS = ("UPDATE", "DELETE")


def _name(table: str, operation: str) -> str:
    return f"{table}_no_{operation.lower()}"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table, reason in PROTECTED.items():
        for operation in OPERATIONS:
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {_name(table, operation)} BEFORE {operation} "
                f"ON {table} BEGIN SELECT RAISE(ABORT, '{reason}: {operation} refused'); END"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table in PROTECTED:
        for operation in OPERATIONS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {_name(table, operation)}")


class Migration(migrations.Migration):
    dependencies = [("workflow", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
