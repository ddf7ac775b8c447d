"""三员分立 in the database too: a member of one of the three administrators' groups is a
member of no other group, whoever writes the membership (the role service refuses it
first, with its reason, and records the attempt; this catches a write that bypasses it).
Memberships are only ever inserted or deleted (Django never updates that table's rows)."""

from django.db import migrations

# The names of `workflow.states.Administrator`, frozen here as migrations are.
ADMINISTRATORS = "('system_admin', 'security_admin', 'audit_admin')"
# Another membership of the same user, where either group is an administrator's.
CONFLICT = f"""EXISTS (
    SELECT 1 FROM auth_user_groups x
    JOIN auth_group other ON other.id = x.group_id
    JOIN auth_group joined ON joined.id = NEW.group_id
    WHERE x.user_id = NEW.user_id AND x.group_id <> NEW.group_id
      AND (other.name IN {ADMINISTRATORS} OR joined.name IN {ADMINISTRATORS}))"""  # noqa: S608
MESSAGE = "an administrator (system_admin, security_admin, audit_admin) holds no other role"

POSTGRES_CREATE = [
    f"""CREATE OR REPLACE FUNCTION workflow_one_administrator_role() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF {CONFLICT} THEN
                RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =
                    '{MESSAGE} (user ' || NEW.user_id || ')';
            END IF;
            RETURN NEW;
        END $$""",
    """CREATE TRIGGER auth_user_groups_one_administrator_role
        BEFORE INSERT ON auth_user_groups
        FOR EACH ROW EXECUTE FUNCTION workflow_one_administrator_role()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS auth_user_groups_one_administrator_role ON auth_user_groups",
    "DROP FUNCTION IF EXISTS workflow_one_administrator_role()",
]
SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS auth_user_groups_one_administrator_role
        BEFORE INSERT ON auth_user_groups WHEN {CONFLICT}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS auth_user_groups_one_administrator_role"]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in POSTGRES_CREATE if vendor == "postgresql" else SQLITE_CREATE:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in POSTGRES_DROP if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("workflow", "0008_outbox_and_stage_visits"),
    ]
    operations = [migrations.RunPython(create, drop)]
