"""Celery tasks of the workflow: each calls a service and is safe to run twice."""

from celery import shared_task

from workflow import audit, services


@shared_task(name="workflow.tasks.seal_audit_log")
def seal_audit_log() -> int | None:
    checkpoint = audit.seal()
    return checkpoint.seq if checkpoint else None


@shared_task(name="workflow.tasks.sweep_deadlines")
def sweep_deadlines() -> int:
    return services.sweep_deadlines()
