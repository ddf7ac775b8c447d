"""Drafting: a new text, editing, importing a file."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from submissions.api import authority_of
from submissions.content import SECTION_FIELDS, section_choices
from submissions.forms import ImportForm, TextForm
from submissions.importer import ImportFormatError, parse_texts
from submissions.lifecycle import EDITABLE_STATES
from submissions.models import PendingImport
from submissions.views._common import (
    IMPORT_SESSION_KEY,
    drafting_departments,
    error_page,
    see_other,
    status_of,
    visible_text,
)
from workflow import services
from workflow.exceptions import InvalidInput, StaleVersion, TooLarge, WorkflowError
from workflow.policy import (
    may_edit,
)
from workflow.selectors.texts import existing_titles
from workflow.states import Role
from workflow.vocabulary import state_label


def _form_errors(form: TextForm, error: InvalidInput) -> None:
    for field, problems in error.errors.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


@login_required
def text_create(request: HttpRequest) -> HttpResponse:
    authority = authority_of(request)
    departments = drafting_departments(authority)
    if not departments:
        return error_page(request, _("只有编制人可以新建项目文本。"), 403)
    form = TextForm(request.POST or None, departments=departments)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                text = services.create_text(
                    actor=request.user,
                    data=form.content(),
                    department_code=form.cleaned_data.get("department") or None,
                )
            except InvalidInput as error:
                _form_errors(form, error)
            except WorkflowError as error:
                status = status_of(error)
                form.add_error(None, error.message)
            else:
                messages.success(request, _("已保存。"))
                return see_other(reverse("text-detail", args=[text.pk]))
    context = {"form": form, "text": None}
    return render(request, "submissions/text_form.html", context, status=status)


@login_required
def text_edit(request: HttpRequest, pk: int) -> HttpResponse:
    authority = authority_of(request)
    text = visible_text(authority, pk)
    if text.state not in EDITABLE_STATES:
        message = _("“%(state)s”状态的文本不能编辑。") % {"state": state_label(text.state)}
        return error_page(request, message, 409)
    if not may_edit(authority, text):
        return error_page(request, _("只有本部门的编制人或被授权人可以编辑。"), 403)
    initial = {name: getattr(text, name) for name in SECTION_FIELDS}
    initial.update(version=text.version, amount=text.amount, fiscal_year=text.fiscal_year)
    form = TextForm(request.POST or None, initial=initial)
    status = 200
    stale = False
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.edit_text(
                    actor=request.user,
                    text_id=text.pk,
                    version=form.cleaned_data["version"],
                    data=form.content(),
                )
            except InvalidInput as error:
                _form_errors(form, error)
            except StaleVersion as error:
                status, stale = 409, True
                form.add_error(None, error.message)
            except WorkflowError as error:
                status = status_of(error)
                form.add_error(None, error.message)
            else:
                messages.success(request, _("已保存。"))
                return see_other(reverse("text-detail", args=[text.pk]))
    context = {"form": form, "text": text, "stale": stale}
    return render(request, "submissions/text_form.html", context, status=status)


@login_required
def text_import(request: HttpRequest) -> HttpResponse:
    authority = authority_of(request)
    if not authority.scope(Role.DRAFTER):
        return error_page(request, _("只有编制人可以导入项目文本。"), 403)
    if request.method == "POST" and request.POST.get("step") == "confirm":
        return _import_confirm(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "parsed": None}
    if request.method != "POST":
        return render(request, "submissions/text_import.html", context)
    if not form.is_valid():
        return render(request, "submissions/text_import.html", context, status=400)
    upload = form.cleaned_data["file"]
    try:
        # The same limits as the API's: the service's size check and the importer's own.
        services.check_import_size(upload.size)
        data = upload.read()
        parsed = parse_texts(data, upload.name)
    except TooLarge as error:
        context["error"] = error.message
        return render(request, "submissions/text_import.html", context, status=error.status)
    except ImportFormatError as error:
        context["error"] = str(error)
        return render(request, "submissions/text_import.html", context, status=400)
    pending = PendingImport.keep(request.user, upload.name, data)
    request.session[IMPORT_SESSION_KEY] = pending.pk
    context.update(parsed=[_preview(item) for item in parsed], filename=upload.name)
    return render(request, "submissions/text_import.html", context)


PREVIEW_CHARS = 40


def _preview(item: Any) -> dict[str, Any]:
    return {
        "department": item.department_name,
        "fiscal_year": item.fiscal_year,
        "title": item.title,
        "amount": item.amount,
        # A text of this title already exists for the department and year (lists helper).
        "duplicate": bool(existing_titles([(item.department_name, item.fiscal_year, item.title)])),
        "sections": [
            {
                "label": label,
                "start": getattr(item, name)[:PREVIEW_CHARS],
                "more": len(getattr(item, name)) > PREVIEW_CHARS,
            }
            for name, label in section_choices()
        ],
    }


def _import_confirm(request: HttpRequest) -> HttpResponse:
    # Only the uploader's own pending file, used once whatever the outcome: a failed
    # confirmation shows the upload form again.
    pending = PendingImport.take(request.user, request.session.pop(IMPORT_SESSION_KEY, None))
    context: dict[str, Any] = {"form": ImportForm(), "parsed": None}
    if pending is None:
        context["error"] = _("没有待导入的文件，请重新上传。")
        return render(request, "submissions/text_import.html", context, status=400)
    try:
        created = services.import_texts(
            actor=request.user, filename=pending.filename, data=bytes(pending.data)
        )
    except WorkflowError as error:
        context["error"] = error.message
        return render(request, "submissions/text_import.html", context, status=error.status)
    messages.success(request, _("已创建 %(n)d 份草稿。") % {"n": len(created)})
    return see_other(reverse("text-list") + "?state=draft")
