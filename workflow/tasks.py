"""Celery tasks of the workflow: each calls a service and is safe to run twice.

The periodic sweeps hold a lease (workflow.leases) while they run: a second scheduler's run of
the same job, started while the first still runs, does nothing.
"""

from celery import shared_task

from workflow import audit, services
from workflow.leases import exclusive
from workflow.services import verification


# No lease: a seal asked for after a change must never be skipped because another seal,
# which may have read the log before that change, is running. Seals queue on the sealing
# lock instead (audit.seal), and the second finds nothing new unless something is.
@shared_task(name="workflow.tasks.seal_audit_log")
def seal_audit_log() -> int | None:
    checkpoint = audit.seal()
    return checkpoint.seq if checkpoint else None


@shared_task(name="workflow.tasks.verify_audit_log")
@exclusive("verify_audit_log", busy=None)
def verify_audit_log() -> bool | None:
    """Scheduled: verify what is new since the latest verification (and answer an auditor's
    request for a full one whose own job was lost)."""
    return verification.verify_what_is_new()


@shared_task(name="workflow.tasks.verify_audit_log_full")
def verify_audit_log_full(request_id: int) -> bool:
    """An auditor's request: verify the whole log once (a redelivered job does nothing)."""
    return verification.answer_request(request_id)


@shared_task(name="workflow.tasks.sweep_deadlines")
@exclusive("sweep_deadlines", busy=0)
def sweep_deadlines() -> int:
    return services.sweep_deadlines()


@shared_task(name="workflow.tasks.summarise_refusals")
@exclusive("summarise_refusals", busy=0)
def summarise_refusals() -> int:
    return services.summarise_ended_windows()
