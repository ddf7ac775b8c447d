"""A witness of the audit seals outside this database and this machine's files.

The checkpoint file lives where the application can write; someone with the application's
rights could rewrite it along with the database. `AUDIT_WITNESS_URL` names a syslog
receiver, typically a log host the application cannot log into, that gets every seal's line
as it is written:

    syslog://loghost:514          UDP
    syslog+tcp://loghost:601      TCP
    syslog:///dev/log             the local syslog daemon's socket (which forwards it)

An optional `?facility=local6` picks the facility (default authpriv). Comparing the
witness's lines with `verify_audit`'s view is the log host's side (the lines are the same
JSON as the checkpoint file's); the application never reads them back.
"""

import json
import logging
import logging.handlers
import socket
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core import checks

logger = logging.getLogger(__name__)

SCHEMES = ("syslog", "syslog+tcp")
# Streams per message: a backstop seal after a large import may change thousands, and a
# syslog datagram should stay well under 8 KB.
HEADS_PER_MESSAGE = 40
TAG = "budget-workflow-audit-seal: "


def handler_for(url: str) -> logging.handlers.SysLogHandler:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"AUDIT_WITNESS_URL: scheme must be one of {', '.join(SCHEMES)}")
    facility_name = parse_qs(parts.query).get("facility", ["authpriv"])[0]
    facility = logging.handlers.SysLogHandler.facility_names.get(facility_name)
    if facility is None:
        raise ValueError(f"AUDIT_WITNESS_URL: unknown syslog facility {facility_name!r}")
    if not parts.hostname:
        return logging.handlers.SysLogHandler(address=parts.path, facility=facility)
    kind = socket.SOCK_STREAM if parts.scheme == "syslog+tcp" else socket.SOCK_DGRAM
    return logging.handlers.SysLogHandler(
        address=(parts.hostname, parts.port or 514), facility=facility, socktype=kind
    )


def messages(line: str) -> list[str]:
    """The seal's line as one or more syslog messages, each a JSON document."""
    document: dict[str, Any] = json.loads(line)
    heads = sorted(document.pop("heads", {}).items())
    chunks = [heads[i : i + HEADS_PER_MESSAGE] for i in range(0, len(heads), HEADS_PER_MESSAGE)]
    if len(chunks) <= 1:
        return [line]
    return [
        json.dumps(
            {**document, "heads": dict(chunk), "part": n, "parts": len(chunks)},
            sort_keys=True,
            ensure_ascii=False,
        )
        for n, chunk in enumerate(chunks, start=1)
    ]


def send(line: str) -> None:
    """Send one seal's line to the witness, if one is configured. A witness that cannot be
    reached is logged, never fatal: the seal itself is in the database and the file."""
    url = settings.AUDIT_WITNESS_URL
    if not url:
        return
    try:
        handler = handler_for(url)
    except (OSError, ValueError):
        logger.exception("audit witness %s unusable", url)
        return
    try:
        for message in messages(line):
            record = logging.LogRecord(
                "audit.seal", logging.INFO, __file__, 0, TAG + message, None, None
            )
            handler.emit(record)
    finally:
        handler.close()


@checks.register(checks.Tags.security)
def check_witness_url(**kwargs: Any) -> list[checks.CheckMessage]:
    url = settings.AUDIT_WITNESS_URL
    if not url:
        return []
    parts = urlsplit(url)
    facility = parse_qs(parts.query).get("facility", ["authpriv"])[0]
    if parts.scheme in SCHEMES and facility in logging.handlers.SysLogHandler.facility_names:
        return []
    return [
        checks.Error(
            f"AUDIT_WITNESS_URL={url!r} is not a syslog address this application can send to.",
            hint="syslog://host:514, syslog+tcp://host:601 or syslog:///dev/log, "
            "optionally ?facility=local6.",
            id="workflow.E103",
        )
    ]
