"""Fill `ProjectText.reached` for texts submitted before it was kept: the furthest stage of
the text's pinned version among those it has been decided at and the one it waits at."""

from django.db import migrations


def fill(apps, schema_editor) -> None:
    ProjectText = apps.get_model("submissions", "ProjectText")
    Decision = apps.get_model("workflow", "Decision")
    Route = apps.get_model("workflow", "Route")
    WorkflowVersion = apps.get_model("workflow", "WorkflowVersion")
    orders = {
        version.pk: [stage["code"] for stage in version.document.get("stages", ())]
        for version in WorkflowVersion.objects.all()
    }
    seen: dict[int, set[str]] = {}
    for text_id, stage in Decision.objects.values_list("text_id", "stage").distinct():
        seen.setdefault(text_id, set()).add(stage)
    for text_id, state, version_id in Route.objects.values_list(
        "text_id", "text__state", "version_id"
    ).iterator():
        order = orders.get(version_id, [])
        stages = [code for code in order if code in seen.get(text_id, set()) | {state}]
        if stages:
            ProjectText.objects.filter(pk=text_id).update(reached=stages[-1])


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0006_text_records_furthest_stage_and_list_indexes"),
        ("workflow", "0016_indexes_for_inbox_and_audit_search"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
