"""The printable 审批表 of one text, in the county's layout: the project, its department,
year and amount (in figures and in 大写), its project data, its eight sections in full with
their tables, its 绩效目标, then one row per stage of its workflow
(`workflow.selectors.approval_form.stage_rows`). The page, the PDF and the Word file share
one context (`submissions.documents.approval_sheet`)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from submissions.api import authority_of
from submissions.documents.approval_sheet import approval_sheet_context
from submissions.views._common import visible_text
from workflow.selectors.approval_form import stage_rows


@login_required
@require_GET
def approval_form(request: HttpRequest, pk: int) -> HttpResponse:
    text = visible_text(authority_of(request), pk)
    context = approval_sheet_context(text, stage_rows(text))
    return render(request, "submissions/approval_form.html", context)
