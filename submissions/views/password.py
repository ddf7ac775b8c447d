"""Changing one's own password: the page every signed-in user has, and where an expired
password leads (config.passwords)."""

from django.contrib import messages
from django.contrib.auth import password_validation, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters

from config.addresses import client_address
from submissions.forms import summary_of
from submissions.views._common import see_other
from workflow import services
from workflow.exceptions import WorkflowError
from workflow.passwords import expiry_message, password_expired

# The form's fields as its labels name them (the error summary links to each).
LABELS = {
    "old_password": gettext_lazy("原密码"),
    "new_password": gettext_lazy("新密码"),
    "new_password_again": gettext_lazy("再次输入新密码"),
}


def _safe_next(request: HttpRequest, candidate: str) -> str:
    """Where to go after the change: the page the user was sent from, if it is ours."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


@sensitive_post_parameters("old_password", "new_password", "new_password_again")
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Change the password: the current one, the new one twice."""
    status = 200
    errors: dict[str, list[str]] = {}
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if request.method == "POST":
        old = request.POST.get("old_password", "")
        new = request.POST.get("new_password", "")
        if new != request.POST.get("new_password_again", ""):
            status, errors = 400, {"new_password_again": [_("两次输入的新密码不一致。")]}
        else:
            try:
                account = services.change_password(
                    user=request.user, old=old, new=new, address=client_address(request)
                )
            except WorkflowError as refused:
                status = refused.status
                errors = getattr(refused, "errors", {"detail": [refused.message]})
            else:
                # Django ends the user's other sessions; this one goes on.
                update_session_auth_hash(request, account)
                messages.success(request, _("密码已修改。"))
                return see_other(next_url or reverse("home"))
    context = {
        "errors": errors,
        "summary": summary_of(errors, LABELS),
        "expired": expiry_message() if password_expired(request.user) else "",
        "rules": [text for text in password_validation.password_validators_help_texts() if text],
        "next": next_url,
    }
    return render(request, "submissions/password.html", context, status=status)
