"""The hash and signature algorithms of the audit log, named by settings.

`AUDIT_DIGEST` makes each new event's hash and each new checkpoint's hash and root;
`AUDIT_SIGNATURE_DIGEST` is the hash inside a checkpoint's HMAC. Every event and checkpoint
stores the name of the algorithm that made it, so changing a setting changes only what is
written next: older rows keep verifying under their own algorithm (SM3 for 密评, SHA-256
before that).
"""

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.core import checks

SHA256 = "sha256"
SM3 = "sm3"
# Both give 64 hex digits, so the hash columns fit either.
ALGORITHMS = (SHA256, SM3)


def _constructor(name: str) -> Any:
    if name not in ALGORITHMS:
        raise ValueError(f"unknown audit digest {name!r}: one of {', '.join(ALGORITHMS)}")
    # hashlib.new, not hashlib.sha256: SM3 exists only through OpenSSL.
    return lambda data=b"": hashlib.new(name, data)


def hexdigest(name: str, data: bytes) -> str:
    return _constructor(name)(data).hexdigest()


def hmac_hexdigest(name: str, key: bytes, data: bytes) -> str:
    return hmac.new(key, data, _constructor(name)).hexdigest()


def current() -> str:
    """The algorithm new events and checkpoints are hashed with."""
    return settings.AUDIT_DIGEST


def current_signature() -> str:
    """The hash inside the HMAC new checkpoints are signed with."""
    return settings.AUDIT_SIGNATURE_DIGEST


def _available(name: str) -> bool:
    try:
        hexdigest(name, b"")
    except ValueError:
        return False
    return True


@checks.register(checks.Tags.security)
def check_audit_digests(**kwargs: Any) -> list[checks.CheckMessage]:
    """A misspelt algorithm is refused by `manage.py check` (and every command that runs the
    checks), not discovered by the first action that writes an event."""
    problems = []
    for setting, check_id in (
        ("AUDIT_DIGEST", "workflow.E101"),
        ("AUDIT_SIGNATURE_DIGEST", "workflow.E102"),
    ):
        name = getattr(settings, setting)
        if not _available(name):
            problems.append(
                checks.Error(
                    f"{setting}={name!r} is not an audit digest this machine can compute.",
                    hint=f"Use one of: {', '.join(ALGORITHMS)} (SM3 needs OpenSSL with SM3).",
                    id=check_id,
                )
            )
    return problems
