"""The texts API (DESIGN.md, "HTTP API"). Thin: parse, call a selector or the workflow
service, serialise. Errors come back through `workflow.api_errors`."""

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from submissions.checks import content_of
from submissions.diff import revision_diff
from submissions.docx_export import render_docx
from submissions.models import Department, ProjectText
from submissions.serializers import (
    ActionResultSerializer,
    ActionSerializer,
    DepartmentSerializer,
    RevisionSerializer,
    TextDetailSerializer,
    TextSerializer,
    TextWriteSerializer,
)
from workflow import selectors, services
from workflow.exceptions import InvalidInput
from workflow.permissions import Authority
from workflow.policy import TextFacts, available_actions, progress
from workflow.selectors import text_history
from workflow.serializers import AuditEventSerializer

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
IMPORT_BODY = {
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary"}},
}


def authority_of(request: Request) -> Authority:
    """The user's roles, loaded once per request."""
    if not hasattr(request, "_authority"):
        request._authority = Authority.of(request.user)
    return request._authority


def body_of(request: Request) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict):
        raise InvalidInput(_("请求体应为 JSON 对象。"))
    return dict(data)


def detail_response(request: Request, text: ProjectText, status_code: int = 200) -> Response:
    facts = TextFacts.of(text)
    context = {
        "available_actions": available_actions(authority_of(request), text, facts),
        "stage_progress": progress(text, facts),
    }
    return Response(TextDetailSerializer(text, context=context).data, status=status_code)


def action_response(request: Request, text: ProjectText) -> Response:
    """The slim answer to an action, from the facts the action left on the text (nothing
    loaded again); the full text is its GET."""
    facts = getattr(text, "workflow_facts", None) or TextFacts.of(text)
    context = {
        "available_actions": available_actions(authority_of(request), text, facts),
        "stage_progress": progress(text, facts),
    }
    return Response(ActionResultSerializer(text, context=context).data)


TEXT_FILTERS = [
    OpenApiParameter("state", str),
    OpenApiParameter("department", str, description="department code"),
    OpenApiParameter("fiscal_year", int),
    OpenApiParameter("q", str, description="search in title and implementer"),
]


class DepartmentList(GenericAPIView):
    serializer_class = DepartmentSerializer
    pagination_class = None

    def get(self, request: Request) -> Response:
        return Response(DepartmentSerializer(Department.objects.all(), many=True).data)


class TextListCreate(GenericAPIView):
    serializer_class = TextSerializer

    @extend_schema(parameters=TEXT_FILTERS, responses=TextSerializer(many=True))
    def get(self, request: Request) -> Response:
        texts = selectors.text_list(authority_of(request), request.query_params)
        page = self.paginate_queryset(texts)
        return self.get_paginated_response(TextSerializer(page, many=True).data)

    @extend_schema(request=TextWriteSerializer, responses={201: TextDetailSerializer})
    def post(self, request: Request) -> Response:
        data = body_of(request)
        department = data.pop("department", None)
        text = services.create_text(actor=request.user, data=data, department_code=department)
        return detail_response(request, text, status.HTTP_201_CREATED)


class TextInbox(GenericAPIView):
    serializer_class = TextSerializer

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.inbox(authority_of(request)))
        return self.get_paginated_response(TextSerializer(page, many=True).data)


class TextDetail(GenericAPIView):
    serializer_class = TextDetailSerializer

    def get(self, request: Request, pk: int) -> Response:
        return detail_response(request, selectors.text_detail(authority_of(request), pk))

    @extend_schema(request=TextWriteSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        data = body_of(request)
        version = data.pop("version", None)
        text = services.edit_text(actor=request.user, text_id=pk, version=version, data=data)
        return detail_response(request, text)


class TextAction(GenericAPIView):
    serializer_class = ActionSerializer

    @extend_schema(
        request=ActionSerializer,
        responses=ActionResultSerializer,
        parameters=[
            OpenApiParameter(
                "action",
                str,
                OpenApiParameter.PATH,
                description="submit, withdraw, return, reject, add_signer, urge (remind "
                "the stage's reviewers, once a working day), or the approve action of the "
                "text's current stage (e.g. dept_approve)",
            )
        ],
    )
    def post(self, request: Request, pk: int, action: str) -> Response:
        data = body_of(request)
        if action == "urge":
            # 催办: not a change of the text (no version), never among available_actions.
            text = services.urge(actor=request.user, text_id=pk)
        elif action == "add_signer":
            text = services.add_signer(
                actor=request.user,
                text_id=pk,
                version=data.get("version"),
                user=data.get("user"),
                comment=data.get("comment", ""),
                authority=authority_of(request),
            )
        else:
            text = services.perform_action(
                actor=request.user,
                text_id=pk,
                action=action,
                version=data.get("version"),
                comment=data.get("comment", ""),
                section=data.get("section", ""),
                on_behalf_of=data.get("on_behalf_of"),
                authority=authority_of(request),
            )
        return action_response(request, text)


class TextHistory(GenericAPIView):
    serializer_class = AuditEventSerializer

    def get(self, request: Request, pk: int) -> Response:
        text = selectors.text_detail(authority_of(request), pk)
        page = self.paginate_queryset(text_history(text))
        return self.get_paginated_response(self.serializer_class(page, many=True).data)


class RevisionList(GenericAPIView):
    serializer_class = RevisionSerializer
    pagination_class = None

    def get(self, request: Request, pk: int) -> Response:
        text = selectors.text_detail(authority_of(request), pk)
        return Response(RevisionSerializer(selectors.revisions_of(text), many=True).data)


class RevisionDiff(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("against", int, description="default: the one before")],
        responses=inline_serializer(
            "RevisionDiff",
            {
                "revision": serializers.IntegerField(),
                "against": serializers.IntegerField(),
                "sections": serializers.ListField(child=serializers.DictField()),
                "fields": serializers.ListField(child=serializers.DictField()),
                "tables": serializers.DictField(
                    child=serializers.ListField(child=serializers.DictField())
                ),
            },
        ),
    )
    def get(self, request: Request, pk: int, number: int) -> Response:
        text = selectors.text_detail(authority_of(request), pk)
        revision = selectors.revision_of(text, number)
        against = request.query_params.get("against")
        if against is None:
            if revision.number == 1:
                raise InvalidInput({"against": [_("第 1 版之前没有修订，请用 against 指定。")]})
            against = revision.number - 1
        elif not (against.isascii() and against.isdigit()):
            raise InvalidInput({"against": [_("应为修订号（整数）。")]})
        return Response(revision_diff(revision, selectors.revision_of(text, against)))


class TextImport(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": IMPORT_BODY},
        responses={201: inline_serializer("Imported", {"created": TextSerializer(many=True)})},
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput({"file": [_("请上传 file（.txt 或 .docx）。")]})
        services.check_import_size(upload.size)
        texts = services.import_texts(actor=request.user, filename=upload.name, data=upload.read())
        return Response(
            {"created": TextSerializer(texts, many=True).data}, status=status.HTTP_201_CREATED
        )


class TextExportDocx(APIView):
    @extend_schema(responses={(200, DOCX): bytes})
    def get(self, request: Request, pk: int) -> HttpResponse:
        text = selectors.text_detail(authority_of(request), pk)
        response = HttpResponse(
            render_docx(text.department.name, content_of(text)), content_type=DOCX
        )
        response["Content-Disposition"] = f'attachment; filename="text-{text.pk}.docx"'
        return response
