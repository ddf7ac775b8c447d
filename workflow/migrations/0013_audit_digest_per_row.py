"""Each audit event and checkpoint names the algorithm that made its hash; every existing row
was made with SHA-256."""

from importlib import import_module

from django.db import migrations, models

# On SQLite, adding a column with a default rebuilds the table, which drops its triggers:
# put the append-only ones back.
sqlite_events = import_module("workflow.migrations.0002_sqlite_append_only")
sqlite_checkpoints = import_module("workflow.migrations.0004_sqlite_checkpoints_append_only")


def restore_sqlite_triggers(apps, schema_editor):
    sqlite_events.create(apps, schema_editor)
    sqlite_checkpoints.create(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0012_carry_over_drf_tokens"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditcheckpoint",
            name="digest",
            field=models.CharField(default="sha256", max_length=16),
        ),
        migrations.AddField(
            model_name="auditcheckpoint",
            name="signature_digest",
            field=models.CharField(default="sha256", max_length=16),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="digest",
            field=models.CharField(default="sha256", max_length=16),
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
    ]
