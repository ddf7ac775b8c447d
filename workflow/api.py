"""The user's own roles and the auditors' API (DESIGN.md, "HTTP API")."""

import csv
import io
import json
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from submissions.api import authority_of
from submissions.serializers import AuditEventSerializer
from workflow import audit
from workflow.exceptions import NotPermitted
from workflow.models import AuditEvent
from workflow.selectors import audit_events
from workflow.states import Role

AUDIT_FILTERS = [
    OpenApiParameter("actor", str, description="username"),
    OpenApiParameter("action", str),
    OpenApiParameter("outcome", str, enum=["ok", "refused"]),
    OpenApiParameter("text", int),
    OpenApiParameter("department", str),
    OpenApiParameter("since", str, description="date or ISO 8601 time"),
    OpenApiParameter("until", str, description="date or ISO 8601 time"),
]


class Me(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "id": serializers.IntegerField(),
                "username": serializers.CharField(),
                "name": serializers.CharField(),
                "is_superuser": serializers.BooleanField(),
                "roles": serializers.ListField(child=serializers.CharField()),
                "scopes": serializers.DictField(),
                "departments": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        authority = authority_of(request)
        departments = {d.pk: d.code for d in authority.departments()}
        scopes = {}
        for role in authority.roles:
            scope = authority.scope(role)
            scopes[role] = (
                "all"
                if scope.everywhere
                else sorted(departments[i] for i in scope.department_ids if i in departments)
            )
        user = request.user
        return Response(
            {
                "id": user.pk,
                "username": user.get_username(),
                "name": user.get_full_name(),
                "is_superuser": user.is_superuser,
                "roles": list(authority.roles),
                "scopes": scopes,
                "departments": sorted(departments.values()),
            }
        )


class AuditEventList(GenericAPIView):
    serializer_class = AuditEventSerializer

    @extend_schema(parameters=AUDIT_FILTERS)
    def get(self, request: Request) -> Response:
        events = audit_events(authority_of(request), request.query_params)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)


CSV_COLUMNS = (
    "id", "at", "actor", "action", "outcome", "text", "department", "from_state",
    "to_state", "revision", "comment", "changes", "detail", "stream", "seq", "hash",
)  # fmt: skip


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Excel runs a cell that starts like a formula: make it plain text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _csv_rows(events: Iterator[AuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    # A byte-order mark, so that Excel opens the UTF-8 file with its Chinese intact.
    yield "\ufeff"
    writer.writerow(CSV_COLUMNS)
    yield flush()
    for event in events:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    event.pk,
                    timezone.localtime(event.at).isoformat(),
                    event.actor_name,
                    event.action,
                    event.outcome,
                    event.text_id,
                    event.department,
                    event.from_state,
                    event.to_state,
                    event.revision,
                    event.comment,
                    json.dumps(event.changes, ensure_ascii=False, sort_keys=True),
                    json.dumps(event.detail, ensure_ascii=False, sort_keys=True),
                    event.stream,
                    event.seq,
                    event.hash,
                )
            ]
        )
        yield flush()


class AuditExportCsv(APIView):
    @extend_schema(parameters=AUDIT_FILTERS, responses={(200, "text/csv"): bytes})
    def get(self, request: Request) -> StreamingHttpResponse:
        events = audit_events(authority_of(request), request.query_params)
        response = StreamingHttpResponse(
            _csv_rows(events.iterator(chunk_size=1000)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        return response


class AuditVerify(APIView):
    @extend_schema(
        responses=inline_serializer(
            "AuditVerify",
            {
                "ok": serializers.BooleanField(),
                "checked": serializers.IntegerField(),
                "first_bad": serializers.IntegerField(allow_null=True),
                "detail": serializers.CharField(),
            },
        )
    )
    def get(self, request: Request) -> Response:
        if not authority_of(request).scope(Role.AUDITOR):
            raise NotPermitted("auditors_only")
        return Response(audit.verify().as_dict())
