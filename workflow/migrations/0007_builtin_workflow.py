"""The built-in workflow `budget-text` v1 (the chain DESIGN.md's table describes), every
submitted text pinned to it, and the database's refusal of any state change the text's
pinned version does not allow: a trigger that consults `workflow_transition`, on
PostgreSQL and on SQLite (a text not yet pinned follows the newest version)."""

from django.db import migrations

# As they stood when this migration was written (a migration must not change when the
# code does). Loading a new version goes through workflow.services.load_workflow.
DOCUMENT = {
    "code": "budget-text",
    "name": "部门预算项目文本审批",
    "roles": [],
    "stages": [
        {
            "code": "dept_review",
            "name": "部门审核",
            "approve_action": "dept_approve",
            "lanes": [{"role": "dept_reviewer", "quorum": 1}],
            "due_days": 5,
            "supervisor_role": "dept_review_supervisor",
        },
        {
            "code": "finance_review",
            "name": "财政审核",
            "approve_action": "finance_approve",
            "lanes": [{"role": "finance_reviewer", "quorum": 1}],
            "due_days": 5,
            "supervisor_role": "finance_review_supervisor",
        },
        {
            "code": "approval",
            "name": "待审批",
            "approve_action": "approve",
            "lanes": [{"role": "approver", "quorum": 1}],
            "due_days": 3,
            "supervisor_role": "approval_supervisor",
        },
    ],
}
TRANSITIONS = [
    ("draft", "dept_review"),
    ("returned", "dept_review"),
    ("dept_review", "draft"),
    ("dept_review", "finance_review"),
    ("finance_review", "approval"),
    ("approval", "approved"),
    *((stage, "returned") for stage in ("dept_review", "finance_review", "approval")),
    *((stage, "rejected") for stage in ("dept_review", "finance_review", "approval")),
]

# The version a text follows: its pin, or (not yet submitted) the newest.
PINNED = """COALESCE(
    (SELECT r.version_id FROM workflow_route r WHERE r.text_id = NEW.id),
    (SELECT max(v.id) FROM workflow_version v))"""
ALLOWED = f"""EXISTS (
    SELECT 1 FROM workflow_transition t
    WHERE t.version_id = {PINNED} AND t.from_state = OLD.state AND t.to_state = NEW.state)"""  # noqa: S608 (constants)

POSTGRES_CREATE = [
    f"""CREATE OR REPLACE FUNCTION workflow_state_follows_pinned_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.state IS DISTINCT FROM OLD.state AND NOT {ALLOWED} THEN
                -- No placeholders: the statement may pass through a DB-API driver.
                RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =
                    'invalid transition of state ' || OLD.state || ' -> ' || NEW.state
                    || ' (text ' || NEW.id || '): its workflow version does not allow it';
            END IF;
            RETURN NEW;
        END $$""",
    """CREATE TRIGGER projecttext_state_follows_pinned_version
        BEFORE UPDATE OF state ON submissions_projecttext
        FOR EACH ROW EXECUTE FUNCTION workflow_state_follows_pinned_version()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS projecttext_state_follows_pinned_version ON submissions_projecttext",
    "DROP FUNCTION IF EXISTS workflow_state_follows_pinned_version()",
]
SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS projecttext_state_follows_pinned_version
        BEFORE UPDATE OF state ON submissions_projecttext
        WHEN NEW.state != OLD.state AND NOT {ALLOWED}
        BEGIN SELECT RAISE(ABORT, 'invalid transition of state: its workflow version does not allow it'); END""",
    *(
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()}
            BEFORE {operation} ON {table}
            BEGIN SELECT RAISE(ABORT, 'workflow versions are immutable: {operation} refused'); END"""
        for table in ("workflow_version", "workflow_transition")
        for operation in ("UPDATE", "DELETE")
    ),
    # Migration 0006 rebuilt the decisions' table (SQLite cannot add those columns in
    # place), which drops its triggers: migration 0002's, again.
    *(
        f"""CREATE TRIGGER IF NOT EXISTS workflow_decision_no_{operation.lower()}
            BEFORE {operation} ON workflow_decision
            BEGIN SELECT RAISE(ABORT, 'decisions are immutable: {operation} refused'); END"""
        for operation in ("UPDATE", "DELETE")
    ),
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS projecttext_state_follows_pinned_version",
    *(
        f"DROP TRIGGER IF EXISTS {table}_no_{operation}"
        for table in ("workflow_version", "workflow_transition")
        for operation in ("update", "delete")
    ),
]


def builtin(apps, schema_editor):
    workflow_model = apps.get_model("workflow", "Workflow")
    version_model = apps.get_model("workflow", "WorkflowVersion")
    stage_model = apps.get_model("workflow", "Stage")
    lane_model = apps.get_model("workflow", "Lane")
    transition_model = apps.get_model("workflow", "Transition")
    route_model = apps.get_model("workflow", "Route")
    text_model = apps.get_model("submissions", "ProjectText")
    workflow = workflow_model.objects.create(code=DOCUMENT["code"], name=DOCUMENT["name"])
    version = version_model.objects.create(workflow=workflow, number=1, document=DOCUMENT)
    for position, spec in enumerate(DOCUMENT["stages"]):
        stage = stage_model.objects.create(
            version=version,
            position=position,
            code=spec["code"],
            name=spec["name"],
            approve_action=spec["approve_action"],
            due_days=spec["due_days"],
            supervisor_role=spec["supervisor_role"],
        )
        for index, lane in enumerate(spec["lanes"]):
            lane_model.objects.create(
                stage=stage, position=index, role=lane["role"], quorum=lane["quorum"]
            )
    transition_model.objects.bulk_create(
        transition_model(version=version, from_state=a, to_state=b) for a, b in TRANSITIONS
    )
    route_model.objects.bulk_create(
        route_model(text_id=pk, version=version)
        for pk in text_model.objects.filter(revision__gt=0).values_list("pk", flat=True)
    )


def triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in POSTGRES_CREATE if vendor == "postgresql" else SQLITE_CREATE:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in POSTGRES_DROP if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0006_routing_as_data"),
        ("submissions", "0004_state_follows_the_workflow"),
    ]
    operations = [
        migrations.RunPython(builtin, migrations.RunPython.noop),
        migrations.RunPython(triggers, drop_triggers),
    ]
