"""Celery tasks of the workflow: each calls a service and is safe to run twice."""

from celery import shared_task

from workflow import audit, services
from workflow.models import AuditVerification, AuditVerifyRequest


@shared_task(name="workflow.tasks.seal_audit_log")
def seal_audit_log() -> int | None:
    checkpoint = audit.seal()
    return checkpoint.seq if checkpoint else None


@shared_task(name="workflow.tasks.verify_audit_log")
def verify_audit_log() -> bool:
    """Scheduled: verify what is new since the latest verification (and answer an auditor's
    request for a full one whose own job was lost)."""
    unanswered = AuditVerifyRequest.objects.filter(verification__isnull=True).order_by("at")
    request = unanswered.first()
    if request is not None:
        return verify_audit_log_full(request.pk)
    return audit.verify_new_and_keep().ok


@shared_task(name="workflow.tasks.verify_audit_log_full")
def verify_audit_log_full(request_id: int) -> bool:
    """An auditor's request: verify the whole log once (a redelivered job does nothing)."""
    request = AuditVerifyRequest.objects.filter(pk=request_id).first()
    if request is None or AuditVerification.objects.filter(request=request).exists():
        return True
    return audit.verify_and_keep(request=request).ok


@shared_task(name="workflow.tasks.sweep_deadlines")
def sweep_deadlines() -> int:
    return services.sweep_deadlines()


@shared_task(name="workflow.tasks.summarise_refusals")
def summarise_refusals() -> int:
    return services.summarise_ended_windows()
