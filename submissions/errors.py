"""What is refused about a text's content itself, before any workflow rule is asked.

They know nothing of HTTP; the API maps `status` to the response and the management
commands to exit codes. `workflow.exceptions` adds the refusals of the workflow's rules.
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

    def __init__(self, errors: dict[str, list[str]] | str, *, summary: str = "") -> None:
        """`errors`: the messages of each field (the API answers them as they are);
        `summary`: one sentence for a page that shows one (else the first message)."""
        if isinstance(errors, str):
            errors = {"detail": [errors]}
        self.errors = errors
        first = next(iter(errors.values()))[0]
        super().__init__(summary or first)


class Unavailable(WorkflowError):
    """Something this server lacks (not the request): e.g. the libraries a PDF is drawn with."""

    status = 503
    code = "unavailable"


class TooLarge(WorkflowError):
    status = 413
    code = "too_large"
