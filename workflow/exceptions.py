"""What the workflow service raises when it will not do what it was asked.

They know nothing of HTTP; `workflow.api_errors` maps them to status codes and the
management commands to exit codes.
"""

from typing import Any

# The errors a text's own rules raise (bad input, too large) are the submissions app's; they
# are the workflow's too, so that one `except WorkflowError` sees them all.
from submissions.errors import InvalidInput, TooLarge, WorkflowError

__all__ = [
    "InvalidInput",
    "NotPermitted",
    "NotVisible",
    "PasswordExpired",
    "Refusal",
    "StaleVersion",
    "TooLarge",
    "TooSoon",
    "WorkflowError",
    "WrongState",
]


class Refusal(WorkflowError):
    """A refused attempt: it is recorded in the audit log in a transaction of its own.

    It carries a reason (a key of `workflow.vocabulary.REFUSALS`) and its parameters, never
    a sentence: the log stores those, and each reader sees them in their own language.
    """

    def __init__(self, reason: str, *, text_id: int | None = None, **params: Any) -> None:
        self.reason = reason
        self.params = params
        self.text_id = text_id
        super().__init__(reason, **params)

    @property  # type: ignore[override]
    def message(self) -> str:
        from workflow.vocabulary import refusal_message

        return refusal_message(self.reason, self.params)

    @message.setter
    def message(self, _value: str) -> None:
        pass  # the sentence is made on read

    def __str__(self) -> str:
        return self.message


class NotVisible(Refusal):
    """Unknown, or not visible to this user: the same answer, so existence does not leak."""

    status = 404
    code = "not_found"


class NotPermitted(Refusal):
    status = 403
    code = "permission_denied"


class WrongState(Refusal):
    status = 409
    code = "wrong_state"


class StaleVersion(Refusal):
    status = 409
    code = "stale_version"


class PasswordExpired(WorkflowError):
    """The user's password is older than PASSWORD_MAX_AGE_DAYS: nothing but changing it."""

    status = 403
    code = "password_expired"


class TooSoon(WorkflowError):
    """Asked again before the interval its setting allows (429); nothing changed."""

    status = 429
    code = "throttled"
