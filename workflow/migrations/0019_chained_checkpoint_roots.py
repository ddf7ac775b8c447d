"""A checkpoint's root hashes the previous root and the heads it sealed (`chain`), so that a
seal and its verification cost what was sealed, not the whole log; every existing checkpoint
keeps the root it was made with, the hash of every stream's head (`map`)."""

from importlib import import_module

from django.db import migrations, models

# On SQLite, adding a column with a default rebuilds the table, which drops its triggers:
# put the append-only ones back.
sqlite_checkpoints = import_module("workflow.migrations.0004_sqlite_checkpoints_append_only")


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0018_stage_visit_keeps_all_lane_quorums"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditcheckpoint",
            name="root_kind",
            field=models.CharField(
                choices=[("map", "map"), ("chain", "chain")], default="map", max_length=8
            ),
        ),
        migrations.AlterField(
            model_name="auditcheckpoint",
            name="root_kind",
            field=models.CharField(
                choices=[("map", "map"), ("chain", "chain")], default="chain", max_length=8
            ),
        ),
        migrations.RunPython(sqlite_checkpoints.create, migrations.RunPython.noop),
    ]
