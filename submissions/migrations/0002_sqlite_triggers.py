"""On SQLite, where django-pgtrigger installs nothing, SQLite's own triggers do what the
PostgreSQL ones do: a text's state changes only along the machine's transitions (even
through queryset.update()), and revisions are never changed or deleted."""

from django.db import migrations

# The machine's transitions as they stood when this migration was written (a migration
# must not change when the code does).
ALLOWED = "'draft:dept_review', 'returned:dept_review', 'dept_review:draft', 'dept_review:finance_review', 'finance_review:approval', 'approval:approved', 'dept_review:returned', 'finance_review:returned', 'approval:returned', 'dept_review:rejected', 'finance_review:rejected', 'approval:rejected'"

CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS projecttext_state_follows_the_machine
        BEFORE UPDATE OF state ON submissions_projecttext
        WHEN NEW.state != OLD.state AND (OLD.state || ':' || NEW.state) NOT IN ({ALLOWED})
        BEGIN SELECT RAISE(ABORT, 'invalid transition of state'); END""",
    """CREATE TRIGGER IF NOT EXISTS revision_no_update BEFORE UPDATE ON submissions_revision
        BEGIN SELECT RAISE(ABORT, 'revisions are immutable: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS revision_no_delete BEFORE DELETE ON submissions_revision
        BEGIN SELECT RAISE(ABORT, 'revisions are immutable: DELETE refused'); END""",
]
NAMES = ["projecttext_state_follows_the_machine", "revision_no_update", "revision_no_delete"]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in NAMES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("submissions", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
