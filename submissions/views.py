"""Server-rendered pages of drafters and reviewers.

Views are thin: they parse the form, call a selector or `workflow.services`, and render.
Every change goes through the service; its refusals become the page's status code.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from submissions.api import authority_of
from submissions.content import SECTION_FIELDS, section_choices
from submissions.diff import revision_diff
from submissions.forms import ImportForm, TextForm
from submissions.importer import ImportFormatError, parse_texts
from submissions.lifecycle import EDITABLE_STATES, FixedAction
from submissions.models import Department, PendingImport, ProjectText
from workflow import selectors, services
from workflow.exceptions import InvalidInput, NotVisible, StaleVersion, TooLarge, WorkflowError
from workflow.machine import catalog
from workflow.models import Delegation, Outcome, StageVisit
from workflow.permissions import Authority
from workflow.policy import (
    TextFacts,
    acting_for,
    available_actions,
    capacities,
    may_add_signer,
    may_edit,
    progress,
)
from workflow.selectors import text_history
from workflow.services.delegation import delegable_roles
from workflow.states import ACTIONS_NEEDING_REASON, Role
from workflow.vocabulary import role_label, state_label

PAGE_SIZE = 50
HOME_SIZE = 20
# The session holds only the id of the PendingImport awaiting confirmation: the session is
# saved on every request, the file is not.
IMPORT_SESSION_KEY = "import_upload"

# The words on the buttons (DESIGN.md, "Pages"): every review stage approves with 通过, the
# last one with 批准.
BUTTON_LABELS = {
    FixedAction.SUBMIT: pgettext_lazy("button", "提交"),
    FixedAction.WITHDRAW: pgettext_lazy("button", "撤回"),
    FixedAction.RETURN: pgettext_lazy("button", "退回"),
    FixedAction.REJECT: pgettext_lazy("button", "不予立项"),
    "add_signer": pgettext_lazy("button", "加签"),
}
PASS_LABEL = pgettext_lazy("button", "通过")
FINAL_LABEL = pgettext_lazy("button", "批准")


def _button_label(action: str, text: ProjectText) -> str:
    if action in BUTTON_LABELS:
        return BUTTON_LABELS[action]
    machine = catalog().machine(_version_of(text)) if _version_of(text) else catalog().current
    return FINAL_LABEL if machine.approves_finally(action) else PASS_LABEL


def _version_of(text: ProjectText) -> int | None:
    try:
        return text.route.version_id
    except ObjectDoesNotExist:
        return None


def _status(error: WorkflowError) -> int:
    if isinstance(error, NotVisible):
        raise Http404(error.message)
    return error.status


def _drafting_departments(authority: Authority) -> list[tuple[str, str]]:
    scope = authority.scope(Role.DRAFTER)
    if not scope:
        return []
    departments = Department.objects.all()
    if not scope.everywhere:
        departments = departments.filter(pk__in=scope.department_ids)
    return [(d.code, d.name) for d in departments.order_by("code")]


def _visible_text(authority: Authority, pk: Any) -> ProjectText:
    try:
        return selectors.text_detail(authority, pk)
    except NotVisible as error:
        raise Http404(error.message) from None


def _see_other(url: str) -> HttpResponse:
    return HttpResponseRedirect(url, status=303)


def _error_page(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "submissions/error.html", {"message": message}, status=status)


# --- Home and lists --------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "submissions/login.html", {"form": None})
    authority = authority_of(request)
    context = {
        "authority": authority,
        "may_draft": bool(authority.scope(Role.DRAFTER)),
        "inbox": selectors.inbox(authority)[:HOME_SIZE],
        "texts": selectors.text_list(authority, {})[:HOME_SIZE],
    }
    return render(request, "submissions/home.html", context)


@login_required
def text_list(request: HttpRequest) -> HttpResponse:
    authority = authority_of(request)
    params = {
        name: request.GET.get(name, "") for name in ("state", "department", "fiscal_year", "q")
    }
    status = 200
    try:
        texts = selectors.text_list(authority, params)
    except InvalidInput as error:
        messages.error(request, error.message)
        texts, status = ProjectText.objects.none(), 400
    page = Paginator(texts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "texts": page.object_list,
        "states": [(state, state_label(state)) for state in catalog().all_states],
        "params": params,
        "may_draft": bool(authority.scope(Role.DRAFTER)),
    }
    return render(request, "submissions/text_list.html", context, status=status)


def _progress_rows(stage_progress: dict[str, Any] | None) -> dict[str, Any] | None:
    """`stage_progress` with the names a reader reads: roles, quorums, who is still due."""
    if stage_progress is None:
        return None
    lanes = []
    for lane in stage_progress["lanes"]:
        quorum, approved = lane["quorum"], lane["approved_by"]
        lanes.append(
            {
                **lane,
                "role_name": role_label(lane["role"]),
                "kind": _("或签") if quorum == 1 else _("会签 %(n)d 人") % {"n": quorum},
                "remaining": max(quorum - len(approved), 0),
            }
        )
    return {**stage_progress, "stage_name": state_label(stage_progress["stage"]), "lanes": lanes}


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    authority = authority_of(request)
    page = Paginator(selectors.inbox(authority), PAGE_SIZE).get_page(request.GET.get("page"))
    texts = list(page.object_list)
    # The due dates of the whole page in one query.
    due = dict(
        StageVisit.objects.filter(
            text_id__in=[text.pk for text in texts], left_at__isnull=True
        ).values_list("text_id", "due_at")
    )
    now = timezone.now()
    known = catalog()
    delegated = acting_for(authority, [text.pk for text in texts])
    rows = [
        {
            "text": text,
            "acting_for": delegated.get(text.pk),
            "days": (now - text.entered_state_at).days,
            "due_at": due.get(text.pk),
            "approvable": known.approve_action_at(text.state, _version_of(text)) is not None,
        }
        for text in texts
    ]
    context = {"page": page, "rows": rows, "any_approvable": any(r["approvable"] for r in rows)}
    return render(request, "submissions/inbox.html", context)


@login_required
@require_POST
def bulk_approve(request: HttpRequest) -> HttpResponse:
    authority = authority_of(request)
    results = []
    for raw_id in dict.fromkeys(request.POST.getlist("texts")):
        result: dict[str, Any] = {"id": raw_id, "title": f"#{raw_id}", "ok": False, "reason": ""}
        try:
            text = selectors.text_detail(authority, raw_id)
            result["id"], result["title"] = text.pk, text.title
            action = catalog().approve_action_at(text.state, _version_of(text))
            if action is None:
                result["reason"] = _("当前状态“%(state)s”下不能通过。") % {
                    "state": state_label(text.state)
                }
            else:
                services.perform_action(
                    actor=request.user,
                    text_id=text.pk,
                    action=action,
                    version=_as_int(request.POST.get(f"version-{text.pk}")),
                    authority=authority,
                )
                result["ok"] = True
        except WorkflowError as error:
            result["reason"] = error.message
        results.append(result)
    context = {
        "approved": [r for r in results if r["ok"]],
        "refused": [r for r in results if not r["ok"]],
    }
    return render(request, "submissions/bulk_result.html", context)


def _as_int(value: Any) -> Any:
    """An integer if the form sent one; otherwise the raw value, for the service to refuse."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


# --- One text --------------------------------------------------------------------------------


def _action_forms(authority: Authority, text: ProjectText) -> list[dict[str, Any]]:
    forms = []
    for action in available_actions(authority, text):
        if action == "add_signer":
            continue  # needs a person to name: offered by its own form
        forms.append(
            {
                "action": action,
                "label": _button_label(action, text),
                "needs_reason": action in ACTIONS_NEEDING_REASON,
                "takes_comment": action not in FixedAction.values,
            }
        )
    return forms


def _is_auditor_of(authority: Authority, text: ProjectText) -> bool:
    return authority.holds(Role.AUDITOR, text.department_id)


def _detail_context(request: HttpRequest, text: ProjectText) -> dict[str, Any]:
    authority = authority_of(request)
    events = text_history(text)
    if not _is_auditor_of(authority, text):
        events = events.filter(outcome=Outcome.OK)
    facts = TextFacts.of(text)
    found = capacities(authority, text, facts)
    return {
        "progress": _progress_rows(progress(text, facts)),
        # Someone who may act only as a delegate acts "代 X 审批"; for several, they choose.
        "acting_for": [c.principal for c in found] if found and found[0].on_behalf_of else [],
        "may_add_signer": may_add_signer(authority, text, facts),
        "text": text,
        "sections": [
            {"field": name, "label": label, "body": getattr(text, name)}
            for name, label in section_choices()
        ],
        "actions": _action_forms(authority, text),
        "section_choices": section_choices(),
        "may_edit": text.state in EDITABLE_STATES and may_edit(authority, text),
        "revisions": selectors.revisions_of(text),
        "events": events,
    }


@login_required
def text_detail(request: HttpRequest, pk: int) -> HttpResponse:
    text = _visible_text(authority_of(request), pk)
    return render(request, "submissions/text_detail.html", _detail_context(request, text))


@login_required
@require_POST
def text_act(request: HttpRequest, pk: int) -> HttpResponse:
    authority = authority_of(request)
    return _on_the_text_page(
        request,
        pk,
        lambda: services.perform_action(
            actor=request.user,
            text_id=pk,
            action=request.POST.get("action", ""),
            version=_as_int(request.POST.get("version")),
            comment=request.POST.get("comment", ""),
            section=request.POST.get("section", ""),
            on_behalf_of=request.POST.get("on_behalf_of") or None,
            authority=authority,
        ),
        _("成功。"),
    )


def _on_the_text_page(
    request: HttpRequest, pk: int, change: Callable[[], Any], done: str
) -> HttpResponse:
    """Make a change from the text's page: back to the page with `done`, or the page again
    with the refusal and its status."""
    try:
        change()
    except WorkflowError as error:
        status = _status(error)
        # Bad input is refused before visibility is looked at: a text that is missing or
        # not the user's is still a 404 here, never the detail page.
        text = _visible_text(authority_of(request), pk)
        messages.error(request, _("失败：%(reason)s") % {"reason": error.message})
        context = _detail_context(request, text)
        return render(request, "submissions/text_detail.html", context, status=status)
    messages.success(request, done)
    return _see_other(reverse("text-detail", args=[pk]))


@login_required
def text_diff(request: HttpRequest, pk: int) -> HttpResponse:
    text = _visible_text(authority_of(request), pk)
    numbers = list(text.revisions.order_by("number").values_list("number", flat=True))
    context: dict[str, Any] = {"text": text, "numbers": numbers, "diff": None}
    if len(numbers) < 2:
        return render(request, "submissions/text_diff.html", context)
    latest = numbers[-1]
    # By default: against what this stage saw last (what changed since it returned the
    # text), else the revision before.
    default = selectors.revision_last_seen_by_stage(text) or latest - 1
    against = _as_int(request.GET.get("against") or default)
    if against not in numbers or against == latest:
        return _error_page(request, _("修订不存在。"), 404)
    diff = revision_diff(selectors.revision_of(text, latest), selectors.revision_of(text, against))
    context.update(diff=diff, latest=latest, against=against)
    return render(request, "submissions/text_diff.html", context)


# --- Drafting --------------------------------------------------------------------------------


def _form_errors(form: TextForm, error: InvalidInput) -> None:
    for field, problems in error.errors.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


@login_required
def text_create(request: HttpRequest) -> HttpResponse:
    authority = authority_of(request)
    departments = _drafting_departments(authority)
    if not departments:
        return _error_page(request, _("只有编制人可以新建项目文本。"), 403)
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
                status = _status(error)
                form.add_error(None, error.message)
            else:
                messages.success(request, _("已保存。"))
                return _see_other(reverse("text-detail", args=[text.pk]))
    context = {"form": form, "text": None}
    return render(request, "submissions/text_form.html", context, status=status)


@login_required
def text_edit(request: HttpRequest, pk: int) -> HttpResponse:
    authority = authority_of(request)
    text = _visible_text(authority, pk)
    if text.state not in EDITABLE_STATES:
        message = _("“%(state)s”状态的文本不能编辑。") % {"state": state_label(text.state)}
        return _error_page(request, message, 409)
    if not may_edit(authority, text):
        return _error_page(request, _("只有本部门的编制人或被授权人可以编辑。"), 403)
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
                status = _status(error)
                form.add_error(None, error.message)
            else:
                messages.success(request, _("已保存。"))
                return _see_other(reverse("text-detail", args=[text.pk]))
    context = {"form": form, "text": text, "stale": stale}
    return render(request, "submissions/text_form.html", context, status=status)


@login_required
def text_import(request: HttpRequest) -> HttpResponse:
    authority = authority_of(request)
    if not authority.scope(Role.DRAFTER):
        return _error_page(request, _("只有编制人可以导入项目文本。"), 403)
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
    return _see_other(reverse("text-list") + "?state=draft")


@login_required
@require_POST
def text_add_signer(request: HttpRequest, pk: int) -> HttpResponse:
    """加签 from the text's page: the person named must approve this stage too."""
    return _on_the_text_page(
        request,
        pk,
        lambda: services.add_signer(
            actor=request.user,
            text_id=pk,
            version=_as_int(request.POST.get("version")),
            user=request.POST.get("user", "").strip(),
            comment=request.POST.get("comment", ""),
        ),
        _("已加签。"),
    )


# --- Delegations (委托) ------------------------------------------------------------------------


@login_required
def delegations(request: HttpRequest) -> HttpResponse:
    """The delegations a user gave and received, and a form to give one."""
    authority = authority_of(request)
    status = 200
    error = None
    form = {"to": "", "starts": "", "ends": "", "reason": "", "roles": []}
    if request.method == "POST":
        form = {
            "to": request.POST.get("to", "").strip(),
            "starts": request.POST.get("starts", ""),
            "ends": request.POST.get("ends", ""),
            "reason": request.POST.get("reason", ""),
            "roles": request.POST.getlist("roles"),
        }
        try:
            services.give_delegation(
                actor=request.user,
                to=form["to"],
                starts=form["starts"],
                ends=form["ends"],
                roles=form["roles"] or None,
                reason=form["reason"],
            )
        except WorkflowError as refused:
            status, error = refused.status, refused
        else:
            messages.success(request, _("委托已生效。"))
            return _see_other(reverse("delegations"))
    user = request.user
    listed = (
        Delegation.objects.filter(Q(delegator=user) | Q(delegate=user))
        .select_related("delegator", "delegate")
        .order_by("-starts", "-id")
    )
    context = {
        "given": [d for d in listed if d.delegator_id == user.pk],
        "received": [d for d in listed if d.delegate_id == user.pk],
        "roles": [(role, role_label(role)) for role in delegable_roles(authority)],
        "form": form,
        "errors": getattr(error, "errors", {"detail": [error.message]} if error else {}),
        "today": timezone.localdate(),
    }
    return render(request, "submissions/delegations.html", context, status=status)


@login_required
@require_POST
def delegation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.revoke_delegation(actor=request.user, delegation_id=pk)
    except WorkflowError as error:
        if isinstance(error, NotVisible):
            raise Http404(error.message) from None
        messages.error(request, _("失败：%(reason)s") % {"reason": error.message})
    else:
        messages.success(request, _("委托已撤销。"))
    return _see_other(reverse("delegations"))
