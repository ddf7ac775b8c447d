"""The outbox and the stage visits become the workflow app's (the workflow writes them;
notifications only reads them): first their tables take the workflow's names, then
workflow 0008 takes the models over and notifications 0005 lets them go, without copying
a row."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_on_behalf_of")]
    operations = [
        migrations.AlterModelTable(name="outboxmessage", table="workflow_outbox"),
        migrations.AlterModelTable(name="stagevisit", table="workflow_stage_visit"),
    ]
