"""What the workflow service raises when it will not do what it was asked.

They know nothing of HTTP; `workflow.api_errors` maps them to status codes and the
management commands to exit codes.
"""

from typing import Any


class WorkflowError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidInput(WorkflowError):
    """The request itself is wrong: a missing reason, an empty section, a bad amount."""

    def __init__(self, errors: dict[str, list[str]] | str) -> None:
        if isinstance(errors, str):
            errors = {"detail": [errors]}
        self.errors = errors
        first = next(iter(errors.values()))[0]
        super().__init__(first)


class TooLarge(WorkflowError):
    status = 413
    code = "too_large"


class Refusal(WorkflowError):
    """A refused attempt: it is recorded in the audit log in a transaction of its own."""

    def __init__(self, message: str, *, text_id: int | None = None, **detail: Any) -> None:
        super().__init__(message, **detail)
        self.text_id = text_id


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
