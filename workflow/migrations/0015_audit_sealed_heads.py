"""What the checkpoints have sealed of each stream, kept for the sealer (issue 11: a seal
within seconds of each change must not read every checkpoint written so far)."""

from django.db import migrations, models


def fill_from_checkpoints(apps, schema_editor):
    checkpoint_model = apps.get_model("workflow", "AuditCheckpoint")
    sealed_model = apps.get_model("workflow", "AuditSealedHead")
    sealed: dict[str, list] = {}
    for heads in checkpoint_model.objects.order_by("seq").values_list("heads", flat=True):
        sealed.update(heads)
    sealed_model.objects.bulk_create(
        (sealed_model(stream=s, length=h[0], head_hash=h[1]) for s, h in sealed.items()),
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0014_incremental_verification"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditSealedHead",
            fields=[
                ("stream", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("length", models.PositiveBigIntegerField()),
                ("head_hash", models.CharField(max_length=64)),
            ],
            options={
                "db_table": "workflow_audit_sealed_head",
            },
        ),
        migrations.RunPython(fill_from_checkpoints, migrations.RunPython.noop),
    ]
