"""Drafting: a new text, editing, importing a file."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from submissions import tables
from submissions.amounts import AmountError, formatted, in_capitals, parse_amount
from submissions.api import authority_of
from submissions.checks import content_of, warnings_for
from submissions.content import section_choices, section_label
from submissions.forms import ImportForm, TextForm
from submissions.importer import ImportFormatError, parse_texts
from submissions.lifecycle import EDITABLE_STATES
from submissions.models import PendingImport, ProjectText
from submissions.sections import CONTENT_FIELDS, TABLE_FIELDS
from submissions.templatetags.budget import yuan
from submissions.views._common import (
    IMPORT_SESSION_KEY,
    as_int,
    drafting_departments,
    error_page,
    see_other,
    status_of,
    version_of,
    visible_text,
)
from submissions.views._content import warnings_shown
from workflow import services
from workflow.exceptions import InvalidInput, StaleVersion, TooLarge, WorkflowError
from workflow.models import Outcome
from workflow.policy import may_edit
from workflow.selectors import latest_reason, text_history
from workflow.selectors.texts import existing_titles
from workflow.states import FixedState, Role
from workflow.vocabulary import state_label


def _form_errors(form: TextForm, error: InvalidInput) -> None:
    for field, problems in error.errors.items():
        for problem in problems:
            form.add_service_error(field, problem)


def _row_change(request: HttpRequest) -> dict[str, Any] | None:
    """添加一行 / 删除 sent without script: which table gets a row more, or which row goes."""
    added = request.POST.get("add_row", "")
    if added in TABLE_FIELDS:
        return {"more_rows": {added: 1}}
    table, _dash, index = request.POST.get("remove_row", "").rpartition("-")
    if table in TABLE_FIELDS and index.isascii() and index.isdigit():
        return {"skip_row": (table, int(index))}
    return None


def _initial_of(text: ProjectText) -> dict[str, Any]:
    initial = {name: getattr(text, name) for name in CONTENT_FIELDS}
    initial.update(
        version=text.version,
        amount=formatted(text.amount) if text.amount is not None else "",
    )
    return initial


def _rebound(form: TextForm, text: ProjectText) -> TextForm:
    """The same typed values, now carrying the text's current version (it was just saved)."""
    data = form.data.copy()
    data["version"] = str(text.version)
    return TextForm(data, initial=_initial_of(text))


def _then_submit(
    request: HttpRequest, text: ProjectText, form: TextForm
) -> tuple[TextForm, int] | None:
    """保存并提交: after saving, submit. None when submitted (or not asked); else the form
    again with the refusal's status, what the submission still lacks marked on its fields."""
    if request.POST.get("then") != "submit":
        return None
    try:
        services.perform_action(
            actor=request.user, text_id=text.pk, action="submit", version=text.version
        )
    except WorkflowError as error:
        form = _rebound(form, text)
        form.is_valid()
        if isinstance(error, InvalidInput):
            _form_errors(form, error)
            # One sentence naming all that is missing or does not add up (SubmitRefusal).
            form.refusal = error.message
        else:
            form.add_error(None, error.message)
        return form, status_of(error)
    return None


def _saved(request: HttpRequest, text: ProjectText) -> HttpResponse:
    if request.POST.get("then") == "submit":
        messages.success(request, _("已保存并提交。"))
    else:
        messages.success(request, _("已保存。"))
    return see_other(reverse("text-detail", args=[text.pk]))


def _render_form(
    request: HttpRequest, form: TextForm, text: ProjectText | None, status: int, **extra: Any
) -> HttpResponse:
    reason = latest_reason(text) if text is not None and text.state == FixedState.RETURNED else None
    pointed = reason.section if reason and reason.section in form.fields else ""
    context: dict[str, Any] = {
        "form": form,
        "text": text,
        "summary": form.error_summary() if form.is_bound else [],
        "reason": reason,
        "reason_stage": state_label(reason.stage, version_of(text)) if reason else "",
        "reason_field": pointed,
        "reason_label": section_label(pointed) if pointed else "",
        "words": _words_of(form),
        "refusal": getattr(form, "refusal", ""),
        # What the text as saved would be warned of: the drafter sees it before submitting.
        "warnings": warnings_shown(warnings_for(content_of(text)), on_form=True) if text else [],
        **extra,
    }
    return render(request, "submissions/text_form.html", context, status=status)


@login_required
def text_create(request: HttpRequest) -> HttpResponse:
    authority = authority_of(request)
    departments = drafting_departments(authority)
    if not departments:
        return error_page(request, _("只有编制人可以新建项目文本。"), 403)
    change = _row_change(request) if request.method == "POST" else None
    form = TextForm(request.POST or None, departments=departments, **(change or {}))
    if request.method != "POST":
        return _render_form(request, form, None, 200)
    if change:
        return _render_form(request, form.unchecked(), None, 200)
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
            form.add_error(None, error.message)
            return _render_form(request, form, None, status_of(error))
        else:
            refused = _then_submit(request, text, form)
            if refused is None:
                return _saved(request, text)
            # Saved as a draft, not submitted: from now on the form edits that draft.
            return _render_form(request, refused[0], text, refused[1], saved_not_submitted=True)
    return _render_form(request, form, None, 400)


def _stale_context(text: ProjectText) -> dict[str, Any]:
    """What to tell someone whose form was opened before the text last changed: the version
    now, who changed it and when (the newest completed event of the text's history)."""
    current = ProjectText.objects.get(pk=text.pk)
    last = text_history(current).filter(outcome=Outcome.OK).select_related("actor").last()
    return {
        "stale": True,
        "current_version": current.version,
        "changed_by": (last.actor.get_username() if last.actor else last.actor_name)
        if last
        else "",
        "changed_at": last.at if last else current.updated_at,
    }


@login_required
def text_edit(request: HttpRequest, pk: int) -> HttpResponse:
    authority = authority_of(request)
    text = visible_text(authority, pk)
    if text.state not in EDITABLE_STATES:
        message = _("“%(state)s”状态的文本不能编辑。") % {"state": state_label(text.state)}
        return error_page(request, message, 409)
    if not may_edit(authority, text):
        return error_page(request, _("只有本部门的编制人或被授权人可以编辑。"), 403)
    change = _row_change(request) if request.method == "POST" else None
    form = TextForm(request.POST or None, initial=_initial_of(text), **(change or {}))
    if request.method != "POST":
        return _render_form(request, form, text, 200)
    if change:
        return _render_form(request, form.unchecked(), text, 200)
    if form.is_valid():
        # 用我的内容覆盖: the person saw that the text changed and keeps their version.
        overwrite = as_int(request.POST.get("overwrite"))
        version = overwrite if isinstance(overwrite, int) else form.cleaned_data["version"]
        try:
            saved = services.edit_text(
                actor=request.user, text_id=text.pk, version=version, data=form.content()
            )
        except InvalidInput as error:
            _form_errors(form, error)
        except StaleVersion:
            # The typed values stay in the form: nothing is lost, nothing is saved.
            return _render_form(request, form, text, 409, **_stale_context(text))
        except WorkflowError as error:
            form.add_error(None, error.message)
            return _render_form(request, form, text, status_of(error))
        else:
            refused = _then_submit(request, saved, form)
            if refused is None:
                return _saved(request, saved)
            saved = ProjectText.objects.get(pk=text.pk)
            return _render_form(request, refused[0], saved, refused[1], saved_not_submitted=True)
    return _render_form(request, form, text, 400)


def _words_of(form: TextForm) -> str:
    """The amount in the form (typed or stored) in words, for the page's first rendering."""
    value = form.data.get("amount") if form.is_bound else form.initial.get("amount")
    return amount_words(str(value or ""))


def amount_words(typed: str) -> str:
    """大写 of what was typed (Chinese pages) or the amount as the app writes it (others);
    "" for nothing typed; a hint for what cannot be read."""
    typed = typed.strip()
    if not typed:
        return ""
    try:
        if len(typed) > AMOUNT_TYPED_MAX:
            raise AmountError(typed)
        amount = parse_amount(typed, typed=True)
    except AmountError:
        return _("无法识别的金额")
    if get_language().startswith("zh"):
        return _("大写：%(words)s") % {"words": in_capitals(amount)}
    return yuan(amount)


# No amount the form takes is longer (its max_length).
AMOUNT_TYPED_MAX = 40


@login_required
@require_GET
def amount_in_words(request: HttpRequest) -> HttpResponse:
    """For htmx, as the drafter types: the amount in words, a span's text."""
    typed = request.GET.get("amount", "")
    return render(request, "submissions/_amount_words.html", {"words": amount_words(typed)})


def _import_page(request: HttpRequest, context: dict[str, Any], status: int) -> HttpResponse:
    """The import page; a refusal listed at its top, linked to the file field."""
    form = context["form"]
    summary = form.error_summary() if form.is_bound else []
    if context.get("error"):
        label = _("文件")
        summary.append({"id": "id_file", "label": label, "message": context["error"]})
    context["summary"] = summary
    return render(request, "submissions/text_import.html", context, status=status)


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
        return _import_page(request, context, 200)
    if not form.is_valid():
        return _import_page(request, context, 400)
    upload = form.cleaned_data["file"]
    try:
        # The same limits as the API's: the service's size check and the importer's own.
        services.check_import_size(upload.size)
        data = upload.read()
        parsed = parse_texts(data, upload.name)
    except TooLarge as error:
        context["error"] = error.message
        return _import_page(request, context, error.status)
    except ImportFormatError as error:
        context["error"] = str(error)
        return _import_page(request, context, 400)
    pending = PendingImport.keep(request.user, upload.name, data)
    request.session[IMPORT_SESSION_KEY] = pending.pk
    # Titles the uploader can already see for that department and year: one query, and
    # nothing learnt of departments they may not see.
    existing = existing_titles(
        [(item.department_name, item.fiscal_year, item.title) for item in parsed], authority
    )
    context.update(parsed=[_preview(item, existing) for item in parsed], filename=upload.name)
    return _import_page(request, context, 200)


PREVIEW_CHARS = 40


def _preview(item: Any, existing: set[tuple[str, int, str]]) -> dict[str, Any]:
    return {
        "department": item.department_name,
        "fiscal_year": item.fiscal_year,
        "title": item.title,
        "amount": item.amount,
        "duplicate": (item.department_name, item.fiscal_year, item.title) in existing,
        "sections": [
            {
                "label": label,
                "start": getattr(item, name)[:PREVIEW_CHARS],
                "more": len(getattr(item, name)) > PREVIEW_CHARS,
            }
            for name, label in section_choices()
        ],
        # What the file gave beside the prose: each table's rows.
        "tables": [
            {"label": table.label, "rows": len(item.structured[table.field])}
            for table in tables.TABLES
            if item.structured.get(table.field)
        ],
    }


def _import_confirm(request: HttpRequest) -> HttpResponse:
    # Only the uploader's own pending file, used once whatever the outcome: a failed
    # confirmation shows the upload form again.
    pending = PendingImport.take(request.user, request.session.pop(IMPORT_SESSION_KEY, None))
    context: dict[str, Any] = {"form": ImportForm(), "parsed": None}
    if pending is None:
        context["error"] = _("没有待导入的文件，请重新上传。")
        return _import_page(request, context, 400)
    try:
        created = services.import_texts(
            actor=request.user, filename=pending.filename, data=bytes(pending.data)
        )
    except WorkflowError as error:
        context["error"] = error.message
        return _import_page(request, context, error.status)
    messages.success(request, _("已创建 %(n)d 份草稿。") % {"n": len(created)})
    return see_other(reverse("text-list") + "?state=draft")
