"""The printable 审批表 of one text, in the county's layout: the project, its department,
year and amount (in figures and in 大写), its eight sections in full, then one row per stage
of its workflow (`workflow.selectors.approval_form.stage_rows`)."""

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from submissions.amounts import in_capitals
from submissions.api import authority_of
from submissions.content import section_choices, section_heading
from submissions.views._common import visible_text
from workflow.selectors.approval_form import stage_rows


@login_required
@require_GET
def approval_form(request: HttpRequest, pk: int) -> HttpResponse:
    text = visible_text(authority_of(request), pk)
    sections = [
        {"field": name, "label": label, "heading": section_heading(i), "body": getattr(text, name)}
        for i, (name, label) in enumerate(section_choices())
    ]
    context = {
        "text": text,
        # 一、项目名称 heads the form; the other seven follow the amount.
        "sections": sections[1:],
        "title_label": sections[0]["label"],
        # 大写 is Chinese by nature: an English page shows the figures only.
        "in_words": in_capitals(Decimal(text.amount))
        if translation.get_language().startswith("zh")
        else "",
        "stages": stage_rows(text),
    }
    return render(request, "submissions/approval_form.html", context)
