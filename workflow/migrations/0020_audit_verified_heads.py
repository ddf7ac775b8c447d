"""Each stream's verified head in a table of its own (issue 12: an incremental verification,
and the API's answer, must not read every stream of a province's log). The state kept with a
verification so far holds them as JSON: the next scheduled verification is a full one, which
fills the table."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0019_chained_checkpoint_roots"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditVerifiedHead",
            fields=[
                ("stream", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("length", models.PositiveBigIntegerField()),
                ("head_hash", models.CharField(max_length=64)),
                ("sealed_length", models.PositiveBigIntegerField(default=0)),
            ],
            options={
                "db_table": "workflow_audit_verified_head",
            },
        ),
    ]
