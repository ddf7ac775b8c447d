import importlib

from django.conf import settings
from django.db import migrations, models

# Adding a column rebuilds the table on SQLite: put its trigger back, as 0006 does.
restore_sqlite_trigger = importlib.import_module(
    "submissions.migrations.0006_text_records_furthest_stage_and_list_indexes"
).restore_sqlite_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0006_text_records_furthest_stage_and_list_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="projecttext",
            name="submissions_departm_10e078_idx",
        ),
        migrations.RemoveIndex(
            model_name="projecttext",
            name="submissions_state_53c291_idx",
        ),
        migrations.AddField(
            model_name="projecttext",
            name="recused",
            field=models.TextField(blank=True, default="", editable=False, verbose_name="回避人员"),
        ),
        migrations.AddIndex(
            model_name="projecttext",
            index=models.Index(
                fields=["state", "entered_state_at", "id"],
                include=("department", "reached", "recused"),
                name="texts_waiting_at_stage",
            ),
        ),
        migrations.AddIndex(
            model_name="projecttext",
            index=models.Index(
                fields=["department", "state", "entered_state_at", "id"],
                name="texts_waiting_by_department",
            ),
        ),
        migrations.RunPython(restore_sqlite_trigger, migrations.RunPython.noop),
    ]
