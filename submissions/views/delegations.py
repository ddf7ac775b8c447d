"""Delegations (委托): the page that gives, lists and revokes them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from submissions.api import authority_of
from submissions.forms import summary_of
from submissions.views._common import (
    see_other,
)
from workflow import services
from workflow.exceptions import NotVisible, WorkflowError
from workflow.models import Delegation
from workflow.services.delegation import delegable_roles
from workflow.vocabulary import role_label

# The give form's fields as its labels name them (the error summary links to each).
GIVE_LABELS = {
    "to": gettext_lazy("受托人"),
    "starts": gettext_lazy("开始日期"),
    "ends": gettext_lazy("结束日期"),
    "roles": gettext_lazy("委托的角色"),
    "reason": gettext_lazy("事由"),
}


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
            return see_other(reverse("delegations"))
    user = request.user
    listed = (
        Delegation.objects.filter(Q(delegator=user) | Q(delegate=user))
        .select_related("delegator", "delegate")
        .order_by("-starts", "-id")
    )
    errors = getattr(error, "errors", {"detail": [error.message]} if error else {})
    context = {
        "given": [d for d in listed if d.delegator_id == user.pk],
        "received": [d for d in listed if d.delegate_id == user.pk],
        "roles": [(role, role_label(role)) for role in delegable_roles(authority)],
        "form": form,
        "errors": errors,
        "summary": summary_of(errors, GIVE_LABELS),
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
    return see_other(reverse("delegations"))
