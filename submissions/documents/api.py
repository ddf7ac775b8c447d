"""Downloading the documents that go out, for the API and the pages alike: the responders
find what the user may see (`workflow.selectors`), render it (`submissions.documents`) and
name the file; the API classes below and `submissions.views.documents` only call them.

    GET /api/v1/texts/{id}/approval-form.docx | .pdf        the 审批表 of one text
    GET /api/v1/publications/{department}/{year}.docx | .pdf the 公开文本 bundle
    GET /api/v1/texts/export.xlsx?state=&department=&fiscal_year=&q=   the exchange workbook
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from submissions.api import TEXT_FILTERS, authority_of
from submissions.documents import files
from submissions.documents.approval_sheet import approval_sheet_docx, approval_sheet_pdf
from submissions.documents.publication import publication_docx, publication_pdf
from submissions.documents.workbook import exchange_workbook
from submissions.models import ProjectText
from workflow import selectors
from workflow.machine import version_of
from workflow.permissions import Authority
from workflow.selectors.approval_form import stage_rows
from workflow.selectors.documents import publication_texts
from workflow.vocabulary import state_label

RENDER_APPROVAL_SHEET = {"docx": approval_sheet_docx, "pdf": approval_sheet_pdf}
RENDER_PUBLICATION = {"docx": publication_docx, "pdf": publication_pdf}


def approval_sheet_file(authority: Authority, pk: Any, extension: str) -> HttpResponse:
    """The 审批表 of a text the user may see (NotVisible, a 404, otherwise)."""
    text = selectors.text_detail(authority, pk)
    content = RENDER_APPROVAL_SHEET[extension](text, stage_rows(text))
    return files.attachment(
        content,
        stem=f"{text.title}-{_('审批表')}",
        fallback=f"approval-form-{text.pk}",
        extension=extension,
    )


def publication_file(
    authority: Authority, department_code: str, fiscal_year: int, extension: str
) -> HttpResponse:
    """The 公开文本 bundle; NothingToPublish (a 404 naming why) for an unknown department or
    a year without approved texts the user may see."""
    department, texts = publication_texts(authority, department_code, fiscal_year)
    content = RENDER_PUBLICATION[extension](department.name, fiscal_year, texts)
    return files.attachment(
        content,
        stem=_("%(department)s-%(year)s年部门预算项目文本（公开）")
        % {"department": department.name, "year": fiscal_year},
        fallback=f"publication-{department.code}-{fiscal_year}",
        extension=extension,
    )


def workbook_file(texts: Iterable[ProjectText]) -> HttpResponse:
    """The exchange workbook of `texts` (a visible, filtered list with TEXT_LIST_RELATED)."""
    content = exchange_workbook(
        texts, state_name=lambda text: state_label(text.state, version_of(text))
    )
    today = timezone.localdate().strftime("%Y%m%d")
    return files.attachment(
        content,
        stem=_("项目文本导出-%(date)s") % {"date": today},
        fallback=f"texts-{today}",
        extension="xlsx",
    )


def _binary(media_type: str, what: str) -> dict[Any, Any]:
    return {
        (200, media_type): OpenApiResponse(bytes, description=what),
        404: OpenApiResponse(description="unknown, or not visible to this user"),
    }


class ApprovalSheetDocx(APIView):
    @extend_schema(responses=_binary(files.DOCX, "the 审批表 as Word"))
    def get(self, request: Request, pk: int) -> HttpResponse:
        return approval_sheet_file(authority_of(request), pk, "docx")


class ApprovalSheetPdf(APIView):
    @extend_schema(responses=_binary(files.PDF, "the 审批表 as PDF"))
    def get(self, request: Request, pk: int) -> HttpResponse:
        return approval_sheet_file(authority_of(request), pk, "pdf")


class PublicationDocx(APIView):
    @extend_schema(responses=_binary(files.DOCX, "the publication bundle as Word"))
    def get(self, request: Request, department: str, fiscal_year: int) -> HttpResponse:
        return publication_file(authority_of(request), department, fiscal_year, "docx")


class PublicationPdf(APIView):
    @extend_schema(responses=_binary(files.PDF, "the publication bundle as PDF"))
    def get(self, request: Request, department: str, fiscal_year: int) -> HttpResponse:
        return publication_file(authority_of(request), department, fiscal_year, "pdf")


class TextsWorkbook(APIView):
    @extend_schema(
        parameters=TEXT_FILTERS,
        responses={
            (200, files.XLSX): OpenApiResponse(
                bytes, description="projects, breakdown rows, indicators"
            ),
            400: OpenApiResponse(description="an unknown state or a bad fiscal_year"),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        params = {
            name: request.query_params.get(name)
            for name in ("state", "department", "fiscal_year", "q")
        }
        return workbook_file(selectors.text_list(authority_of(request), params))
