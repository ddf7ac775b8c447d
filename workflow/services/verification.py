"""An auditor asks for a full verification of the audit log (issue 11).

Pages and the API answer from the latest kept verification, which a scheduled task keeps
current incrementally; a full one re-reads every event, so it runs as a background job, at
most once per AUDIT_FULL_VERIFY_MIN_SECONDS whoever asks, and the request is audited.
"""

import math
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflow import audit
from workflow.exceptions import NotPermitted, TooSoon
from workflow.models import AuditVerification, AuditVerifyRequest
from workflow.permissions import Authority
from workflow.states import Role

# Any number that no other advisory lock of this database uses (audit.SEALING_LOCK + 1).
REQUEST_LOCK = 8_317_002


def _one_request_at_a_time() -> None:
    """Two requests at once must not both pass the throttle. (SQLite's IMMEDIATE
    transactions serialise writers already.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REQUEST_LOCK])


@transaction.atomic(durable=True)
def request_full_verification(*, actor: AbstractBaseUser) -> AuditVerifyRequest:
    """Queue a full verification; 403 for anyone but an auditor, 429 when one was asked
    for less than AUDIT_FULL_VERIFY_MIN_SECONDS ago. The job runs after commit."""
    if not Authority.of(actor).scope(Role.AUDITOR):
        raise NotPermitted("auditors_only")
    _one_request_at_a_time()
    now = timezone.now()
    interval = timedelta(seconds=settings.AUDIT_FULL_VERIFY_MIN_SECONDS)
    last = AuditVerifyRequest.objects.order_by("-at", "-id").first()
    if last is not None and now - last.at < interval:
        wait = math.ceil((last.at + interval - now).total_seconds())
        raise TooSoon(_("完整校验刚刚已有人请求过，请 %(seconds)d 秒后再试。") % {"seconds": wait})
    request = AuditVerifyRequest.objects.create(at=now, requested_by=actor)
    audit.record(
        stream=audit.user_stream(actor.pk),
        actor=actor,
        action="audit_verify_requested",
        detail={"request": request.pk},
    )
    # robust: a broker that is down does not fail the request; the next scheduled
    # verification runs a request that no job answered (workflow.tasks.verify_audit_log).
    transaction.on_commit(lambda: _enqueue(request.pk), robust=True)
    return request


def _enqueue(request_id: int) -> None:
    from workflow.tasks import verify_audit_log_full

    # retry=False: a broker that is down refuses at once; the scheduled verification
    # answers the request instead.
    verify_audit_log_full.apply_async((request_id,), retry=False)


def answer_request(request_id: int) -> bool:
    """Run the full verification an auditor asked for, once: a request answered already (a
    redelivered job) or gone is not run again. Whether the log held."""
    request = AuditVerifyRequest.objects.filter(pk=request_id).first()
    if request is None or AuditVerification.objects.filter(request=request).exists():
        return True
    return audit.verify_and_keep(request=request).ok


def verify_what_is_new() -> bool:
    """The scheduled verification: answer the oldest request no job answered (its job was
    lost with the broker), else verify what is new since the latest verification."""
    unanswered = AuditVerifyRequest.objects.filter(verification__isnull=True).order_by("at")
    request = unanswered.first()
    if request is not None:
        return answer_request(request.pk)
    return audit.verify_new_and_keep().ok
