"""On SQLite, refuse UPDATE and DELETE of audit checkpoints, as PostgreSQL's triggers do."""

from django.db import migrations

TABLE = "workflow_audit_checkpoint"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for operation in ("UPDATE", "DELETE"):
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_{operation.lower()} BEFORE {operation} "
            f"ON {TABLE} BEGIN SELECT RAISE(ABORT, "
            f"'audit checkpoints are append-only: {operation} refused'); END"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for operation in ("UPDATE", "DELETE"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{operation.lower()}")


class Migration(migrations.Migration):
    dependencies = [("workflow", "0003_audit_checkpoint")]
    operations = [migrations.RunPython(create, drop)]
