"""Loading workflow versions and moving texts between them (DESIGN.md, "Routing as data")."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from submissions.lifecycle import FIXED_STATES
from submissions.models import ProjectText
from workflow import audit
from workflow.definitions import Definition, DocumentError, parse, validate
from workflow.exceptions import InvalidInput, NotPermitted, WrongState
from workflow.machine import Machine, catalog, forget_machines, machine_for
from workflow.models import Lane, Route, Stage, Transition, Workflow, WorkflowVersion
from workflow.permissions import administers, ensure_role
from workflow.policy import furthest_reached
from workflow.states import Administrator


def workflow_stream(code: str) -> str:
    return f"workflow:{code}"[:64]


def load_workflow(
    *, actor: AbstractBaseUser | None, source: str | bytes | dict[str, Any]
) -> WorkflowVersion:
    """Validate a document (YAML or JSON text, or a parsed mapping) and store it as the next
    version of its workflow; refused with DocumentError naming each problem, changing
    nothing. The newest version loaded is the one the next submit follows."""
    if not administers(actor, Administrator.SYSTEM):
        raise NotPermitted("admin_only_workflows")
    declared = catalog().declared_roles
    known = {code: role.scope for code, role in declared.items()}
    definition = (
        validate(source, known_roles=known)
        if isinstance(source, dict)
        else parse(source, known_roles=known)
    )
    for index, role in enumerate(definition.roles):
        earlier = declared.get(role.code)
        if earlier is not None and earlier.scope != role.scope:
            raise DocumentError(
                {
                    f"roles[{index}].scope": [
                        _("角色“%(code)s”已被声明为 %(scope)s，不能改变。")
                        % {"code": role.code, "scope": earlier.scope}
                    ]
                }
            )
    return _store(actor, definition)


@transaction.atomic(durable=True)
def _store(actor: AbstractBaseUser | None, definition: Definition) -> WorkflowVersion:
    workflow, created = Workflow.objects.get_or_create(
        code=definition.code, defaults={"name": definition.name}
    )
    workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
    if not created and workflow.name != definition.name:
        workflow.name = definition.name
        workflow.save(update_fields=["name"])
    last = workflow.versions.order_by("-number").values_list("number", flat=True).first()
    version = WorkflowVersion.objects.create(
        workflow=workflow,
        number=(last or 0) + 1,
        document=definition.as_document(),
        created_by=actor,
    )
    store_rows(version, definition)
    for role in definition.roles:
        ensure_role(role.code, role.name)
    audit.record(
        stream=workflow_stream(definition.code),
        actor=actor,
        action="workflow_loaded",
        detail={
            "workflow": definition.code,
            "version": version.number,
            "stages": [stage.code for stage in definition.stages],
        },
    )
    forget_machines()
    transaction.on_commit(forget_machines)
    return version


def store_rows(version: WorkflowVersion, definition: Definition) -> None:
    """The stages, lanes and allowed transitions of a version, as rows: the admin lists
    them and the database trigger consults the transitions."""
    for position, spec in enumerate(definition.stages):
        stage = Stage.objects.create(
            version=version,
            position=position,
            code=spec.code,
            name=spec.name,
            approve_action=spec.approve_action,
            amount_at_least=spec.amount_at_least,
            due_days=spec.due_days,
            supervisor_role=spec.supervisor_role,
        )
        Lane.objects.bulk_create(
            Lane(stage=stage, position=index, role=lane.role, quorum=lane.quorum)
            for index, lane in enumerate(spec.lanes)
        )
    machine = Machine(version.pk, version.number, definition)
    Transition.objects.bulk_create(
        Transition(version=version, from_state=a, to_state=b)
        for a, b in sorted(machine.transitions)
    )


def migrate_workflow(*, actor: AbstractBaseUser | None, code: str, to: Any) -> list[int]:
    """Move every text in flight under another version of workflow `code` to version `to`;
    refused, naming them, if any waits at a stage the target lacks. Returns the texts moved."""
    if not administers(actor, Administrator.SYSTEM):
        raise NotPermitted("admin_only_workflows")
    target = (
        WorkflowVersion.objects.filter(workflow__code=code, number=to).first()
        if isinstance(to, int)
        else None
    )
    if target is None:
        raise InvalidInput(
            {"to": [_("审批流程 %(code)s 没有版本 %(n)s。") % {"code": code, "n": to}]}
        )
    return _migrate(actor, target)


@transaction.atomic(durable=True)
def _migrate(actor: AbstractBaseUser | None, target: WorkflowVersion) -> list[int]:
    machine = machine_for(target.pk)
    routes = list(
        Route.objects.select_for_update()
        .filter(version__workflow_id=target.workflow_id)
        .exclude(version=target)
        .exclude(text__state__in=FIXED_STATES)
        .select_related("text", "version")
        .order_by("text_id")
    )
    stranded = [r.text_id for r in routes if machine.stage(r.text.state) is None]
    if stranded:
        raise WrongState("stage_missing_in_target", version=target.number, texts=stranded)
    for route in routes:
        before = route.version.number
        Route.objects.filter(pk=route.pk).update(version=target)
        # The furthest stage reached, read in the target's order (it may lack the old one).
        reached = furthest_reached(route.text, machine, machine.stage(route.text.state))
        if reached != route.text.reached:
            ProjectText.objects.filter(pk=route.text_id).update(reached=reached)
        audit.record_for_text(
            route.text,
            actor=actor,
            action="workflow_migrated",
            from_state=route.text.state,
            to_state=route.text.state,
            revision=route.text.revision,
            detail={
                "workflow": target.workflow.code,
                "from_version": before,
                "to_version": target.number,
            },
        )
    return [route.text_id for route in routes]
