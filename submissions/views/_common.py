"""What the page modules share: button words, status codes, redirects, the error page."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import pgettext_lazy

from submissions.lifecycle import FixedAction
from submissions.models import Department, ProjectText
from workflow import selectors
from workflow.exceptions import NotVisible, WorkflowError
from workflow.machine import catalog, version_of
from workflow.permissions import Authority
from workflow.states import Role

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


def button_label(action: str, text: ProjectText) -> str:
    if action in BUTTON_LABELS:
        return BUTTON_LABELS[action]
    machine = catalog().machine(version_of(text)) if version_of(text) else catalog().current
    return FINAL_LABEL if machine.approves_finally(action) else PASS_LABEL


def status_of(error: WorkflowError) -> int:
    if isinstance(error, NotVisible):
        raise Http404(error.message)
    return error.status


def drafting_departments(authority: Authority) -> list[tuple[str, str]]:
    scope = authority.scope(Role.DRAFTER)
    if not scope:
        return []
    departments = Department.objects.all()
    if not scope.everywhere:
        departments = departments.filter(pk__in=scope.department_ids)
    return [(d.code, d.name) for d in departments.order_by("code")]


def visible_text(authority: Authority, pk: Any) -> ProjectText:
    try:
        return selectors.text_detail(authority, pk)
    except NotVisible as error:
        raise Http404(error.message) from None


def see_other(url: str) -> HttpResponse:
    return HttpResponseRedirect(url, status=303)


def error_page(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "submissions/error.html", {"message": message}, status=status)


def as_int(value: Any) -> Any:
    """An integer if the form sent one; otherwise the raw value, for the service to refuse."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return value
