"""Fill `ProjectText.recused` for texts submitted before it was kept: the text's authors and
whoever approved its current revision (actor and principal), as the service writes it."""

from django.db import migrations

ENDING_ACTIONS = ("return", "reject")
BATCH = 1000


def column(people: set[int]) -> str:
    ids = sorted(people)
    return f",{','.join(map(str, ids))}," if ids else ""


def fill(apps, schema_editor) -> None:
    ProjectText = apps.get_model("submissions", "ProjectText")
    Decision = apps.get_model("workflow", "Decision")
    Authors = ProjectText._meta.get_field("authors").remote_field.through
    recused: dict[int, set[int]] = {}
    for text_id, user_id in Authors.objects.values_list("projecttext_id", "user_id").iterator():
        recused.setdefault(text_id, set()).add(user_id)
    current = dict(ProjectText.objects.filter(revision__gt=0).values_list("pk", "revision"))
    approvals = Decision.objects.exclude(action__in=ENDING_ACTIONS).values_list(
        "text_id", "revision__number", "actor_id", "on_behalf_of_id"
    )
    for text_id, number, actor_id, on_behalf_of_id in approvals.iterator():
        if current.get(text_id) == number:
            recused.setdefault(text_id, set()).update({actor_id, on_behalf_of_id} - {None})
    changed = [ProjectText(pk=pk, recused=column(recused.get(pk, set()))) for pk in current]
    for start in range(0, len(changed), BATCH):
        ProjectText.objects.bulk_update(changed[start : start + BATCH], ["recused"])


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0007_inbox_indexes_and_who_is_recused"),
        ("workflow", "0020_audit_verified_heads"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
