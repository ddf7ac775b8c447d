"""Turn workflow refusals into DRF responses, and keep anything else a client sends from a 500."""

from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from workflow.exceptions import InvalidInput, WorkflowError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, InvalidInput):
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, WorkflowError):
        body = {"detail": exc.message, "code": exc.code}
        if "current_version" in exc.detail:
            body["current_version"] = exc.detail["current_version"]
        return Response(body, status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": str(exc)}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return drf_exception_handler(exc, context)
