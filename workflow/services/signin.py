"""Failed sign-ins in the audit log, whichever way in they came (page, admin, token)."""

from django.contrib.auth import get_user_model

from workflow import audit
from workflow.services.attempts import RefusedAttempt, record_refused

SIGN_IN_FAILED = "sign_in_failed"
# Refused without checking the password: the username and address are locked out.
SIGN_IN_LOCKED_OUT = "sign_in_locked_out"
# Failures naming no account share one stream, budgeted per address.
UNKNOWN_ACCOUNT_STREAM = "sign_in"


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
