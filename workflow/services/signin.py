"""Sign-ins and sign-outs in the audit log, on the user's stream, whichever way in they came
(the login page, the admin's login, the token endpoint): who, when (the event's time), from
which address, which way in and by which path, and the outcome.

Successes are recorded in full; failures within the refusal budget (a guesser must not grow
the log without bound).
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from workflow import audit
from workflow.models import AuditEvent
from workflow.services.attempts import RefusedAttempt, record_refused

SIGN_IN = "sign_in"
SIGN_OUT = "sign_out"
SIGN_IN_FAILED = "sign_in_failed"
# Refused without checking the password: the username and address are locked out.
SIGN_IN_LOCKED_OUT = "sign_in_locked_out"
# Failures naming no account share one stream, budgeted per address.
UNKNOWN_ACCOUNT_STREAM = "sign_in"
# The ways in, as the events name them.
WAY_PAGE, WAY_ADMIN, WAY_TOKEN = "page", "admin", "token"


def _where(address: str, way: str, path: str) -> dict[str, Any]:
    return {"address": address, "way": way, "path": path[:200]}


@transaction.atomic
def record_sign_in(*, user: AbstractBaseUser, address: str, way: str, path: str) -> AuditEvent:
    """Record a successful sign-in on the user's stream (in the caller's transaction if
    there is one: the token endpoint's issue of a token)."""
    return audit.record(
        stream=audit.user_stream(user.pk),
        actor=user,
        action=SIGN_IN,
        detail=_where(address, way, path),
    )


@transaction.atomic
def record_sign_out(*, user: AbstractBaseUser, address: str, way: str, path: str) -> AuditEvent:
    """Record that the user signed out (their session ended at their request)."""
    return audit.record(
        stream=audit.user_stream(user.pk),
        actor=user,
        action=SIGN_OUT,
        detail=_where(address, way, path),
    )


def record_failed_sign_in(
    *, username: str, address: str, path: str, checked: bool, locked: bool
) -> None:
    """Record a failed sign-in on the account's stream (or the stream of failures naming no
    account), within the refusal budget: a guesser cannot grow the log without bound."""
    account = get_user_model().objects.filter(username=username).only("pk").first()
    if account is not None:
        stream, source = audit.user_stream(account.pk), "sign_in"
    else:
        stream, source = UNKNOWN_ACCOUNT_STREAM, f"address:{address}"
    record_refused(
        RefusedAttempt(
            stream=stream,
            source=source,
            action=SIGN_IN_FAILED if checked else SIGN_IN_LOCKED_OUT,
            detail={"username": username, "address": address, "path": path, "locked": locked},
        )
    )
