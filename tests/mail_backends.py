"""E-mail backends for tests: a mail server that refuses some recipients for good, and all of
them while it is "down".

A test process uses them through `settings.EMAIL_BACKEND`; a live worker loads one through
its EMAIL_BACKEND environment variable (the worker runs in the project directory, where
`tests.mail_backends` imports).
"""

import os
import smtplib
from collections.abc import Sequence
from pathlib import Path

from django.core.mail import EmailMessage
from django.core.mail.backends import filebased, locmem

# Every address at this domain is refused, as an SMTP server refuses a mailbox that does
# not exist: the permanently failing message.
REFUSED_DOMAIN = "refused.example"
# While the file this variable names exists, every message is refused (the server is down).
OUTAGE_FILE_VARIABLE = "TEST_MAIL_OUTAGE_FILE"


def refused(address: str) -> bool:
    return address.rsplit("@", 1)[-1] == REFUSED_DOMAIN


def _check(messages: Sequence[EmailMessage]) -> None:
    outage = os.environ.get(OUTAGE_FILE_VARIABLE)
    if outage and Path(outage).exists():
        raise smtplib.SMTPConnectError(421, b"test mail server is down")
    for message in messages:
        refusals = {
            address: (550, b"5.1.1 mailbox unavailable")
            for address in message.recipients()
            if refused(address)
        }
        if refusals:
            raise smtplib.SMTPRecipientsRefused(refusals)


class RefusingLocmemBackend(locmem.EmailBackend):
    """django.core.mail.outbox, for the messages the server accepts."""

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        _check(messages)
        return super().send_messages(messages)


class RefusingFileBackend(filebased.EmailBackend):
    """Files in EMAIL_FILE_PATH, for the messages the server accepts."""

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        _check(messages)
        return super().send_messages(messages)
