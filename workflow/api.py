"""The user's own roles, the auditors' API, workflow versions and delegations (DESIGN.md,
"HTTP API" and "Routing as data")."""

import json
from collections.abc import Iterator

from django.contrib.auth import update_session_auth_hash
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.addresses import client_address
from submissions.api import authority_of, body_of
from workflow import audit, services, tokens
from workflow.csv_export import stream_csv
from workflow.exceptions import NotPermitted
from workflow.models import AccessToken, AuditEvent, Delegation, Workflow, WorkflowVersion
from workflow.selectors import audit_events, latest_checkpoint
from workflow.serializers import (
    AccessTokenSerializer,
    AuditEventSerializer,
    DelegationSerializer,
    WorkflowSerializer,
)

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


class PasswordChange(serializers.Serializer):
    old_password = serializers.CharField(trim_whitespace=False)
    new_password = serializers.CharField(trim_whitespace=False)


class MePassword(APIView):
    """The user changes their own password; open when it has expired (the only call that is)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PasswordChange,
        responses=inline_serializer("PasswordChanged", {"detail": serializers.CharField()}),
    )
    def post(self, request: Request) -> Response:
        form = PasswordChange(data=body_of(request))
        form.is_valid(raise_exception=True)
        account = services.change_password(
            user=request.user,
            old=form.validated_data["old_password"],
            new=form.validated_data["new_password"],
            address=client_address(request),
        )
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # The browser's session outlives the change (Django ends every other one).
            update_session_auth_hash(request._request, account)
        return Response({"detail": _("密码已修改。")})


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


def _csv_rows(events: Iterator[AuditEvent]) -> Iterator[str]:
    rows = (
        (
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
        for event in events
    )
    return stream_csv(CSV_COLUMNS, rows, chunk_rows=1)


class AuditExportCsv(APIView):
    @extend_schema(parameters=AUDIT_FILTERS, responses={(200, "text/csv"): bytes})
    def get(self, request: Request) -> StreamingHttpResponse:
        events = audit_events(authority_of(request), request.query_params)
        response = StreamingHttpResponse(
            _csv_rows(events.iterator(chunk_size=1000)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        return response


AUDIT_VERIFY_RESPONSE = inline_serializer(
    "AuditVerify",
    {
        "ok": serializers.BooleanField(allow_null=True),
        "checked": serializers.IntegerField(),
        "first_bad": serializers.IntegerField(allow_null=True),
        "detail": serializers.CharField(),
        "verified_at": serializers.DateTimeField(allow_null=True),
        "kind": serializers.CharField(allow_null=True),
        "unverified": serializers.IntegerField(),
        "latest_checkpoint": serializers.DictField(allow_null=True),
    },
)


class AuditVerify(APIView):
    """GET answers from the latest kept verification (caught up incrementally when few events
    are new), never rescanning the whole log; POST asks for a full one, run in the background
    and throttled (AUDIT_FULL_VERIFY_MIN_SECONDS)."""

    @extend_schema(responses={200: AUDIT_VERIFY_RESPONSE, 202: AUDIT_VERIFY_RESPONSE})
    def get(self, request: Request) -> Response:
        if not authority_of(request).audit_scope():
            raise NotPermitted("auditors_only")
        verification, unverified = audit.current_verification()
        checkpoint = latest_checkpoint()
        body = {
            "ok": None,
            "checked": 0,
            "first_bad": None,
            "detail": _("尚未校验：后台校验完成后即可查看。"),
            "verified_at": None,
            "kind": None,
            "unverified": unverified,
            "latest_checkpoint": {
                "seq": checkpoint.seq,
                "at": checkpoint.at.isoformat(),
                "event_count": checkpoint.event_count,
            }
            if checkpoint
            else None,
        }
        if verification is None:
            # Never verified and too long to verify in a request: the task is on its way.
            return Response(body, status=status.HTTP_202_ACCEPTED)
        body.update(
            ok=verification.ok,
            checked=verification.checked,
            first_bad=verification.first_bad,
            detail=verification.detail,
            verified_at=verification.at.isoformat(),
            kind=verification.kind,
        )
        return Response(body)

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "AuditVerifyRequested",
                {
                    "request": serializers.IntegerField(),
                    "requested_at": serializers.DateTimeField(),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        requested = services.request_full_verification(actor=request.user)
        return Response(
            {"request": requested.pk, "requested_at": requested.at.isoformat()},
            status=status.HTTP_202_ACCEPTED,
        )


# --- Workflows and delegations (DESIGN.md, "Routing as data") --------------------------------


class WorkflowList(GenericAPIView):
    """Every workflow with its versions, newest first; the next submit follows the newest
    version loaded."""

    serializer_class = WorkflowSerializer

    def get(self, request: Request) -> Response:
        workflows = Workflow.objects.prefetch_related("versions__created_by").order_by("code")
        page = self.paginate_queryset(workflows)
        return self.get_paginated_response(WorkflowSerializer(page, many=True).data)


class WorkflowVersionDocument(APIView):
    """One version's document, exactly as stored: `load_workflow` takes it back as it is."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, code: str, number: int) -> Response:
        version = WorkflowVersion.objects.filter(workflow__code=code, number=number).first()
        if version is None:
            raise NotFound(_("没有这个审批流程版本。"))
        return Response(version.document)


class DelegationListCreate(GenericAPIView):
    """The delegations the user gave and received; POST gives one."""

    serializer_class = DelegationSerializer

    def get(self, request: Request) -> Response:
        user = request.user
        delegations = (
            Delegation.objects.filter(Q(delegator=user) | Q(delegate=user))
            .select_related("delegator", "delegate")
            .order_by("-starts", "-id")
        )
        page = self.paginate_queryset(delegations)
        return self.get_paginated_response(DelegationSerializer(page, many=True).data)

    @extend_schema(
        request=inline_serializer(
            "DelegationRequest",
            {
                "to": serializers.CharField(),
                "starts": serializers.DateField(),
                "ends": serializers.DateField(),
                "roles": serializers.ListField(child=serializers.CharField(), required=False),
                "reason": serializers.CharField(required=False),
            },
        ),
        responses={201: DelegationSerializer},
    )
    def post(self, request: Request) -> Response:
        data = body_of(request)
        delegation = services.give_delegation(
            actor=request.user,
            to=data.get("to"),
            starts=data.get("starts"),
            ends=data.get("ends"),
            roles=data.get("roles"),
            reason=data.get("reason", ""),
        )
        return Response(DelegationSerializer(delegation).data, status=status.HTTP_201_CREATED)


class DelegationDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.revoke_delegation(actor=request.user, delegation_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccessTokenList(ListAPIView):
    """The user's own tokens that still count, newest first (expired and revoked ones are in
    the audit log)."""

    serializer_class = AccessTokenSerializer

    def get_queryset(self) -> list[AccessToken]:
        return tokens.live_tokens(self.request.user.pk)


class AccessTokenDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        """Revoke one of one's own tokens (an administrator: anyone's)."""
        services.revoke_token(actor=request.user, token_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
