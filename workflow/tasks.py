"""Celery tasks of the workflow: each calls a service and is safe to run twice."""

from celery import shared_task

from workflow import audit, services


@shared_task(name="workflow.tasks.seal_audit_log")
def seal_audit_log() -> int | None:
    checkpoint = audit.seal()
    return checkpoint.seq if checkpoint else None


@shared_task(name="workflow.tasks.verify_audit_log")
def verify_audit_log() -> bool:
    return audit.verify_and_keep().ok


@shared_task(name="workflow.tasks.sweep_deadlines")
def sweep_deadlines() -> int:
    return services.sweep_deadlines()


@shared_task(name="workflow.tasks.summarise_refusals")
def summarise_refusals() -> int:
    return services.summarise_ended_windows()
