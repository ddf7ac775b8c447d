"""访问令牌: the page where a person sees the tokens their scripts hold and revokes one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from submissions.views._common import see_other
from workflow import services, tokens
from workflow.exceptions import NotVisible, WorkflowError


@login_required
def access_tokens(request: HttpRequest) -> HttpResponse:
    """The user's tokens that still count, newest first, each with when it ends."""
    listed = [(token, tokens.expires_at(token)) for token in tokens.live_tokens(request.user.pk)]
    return render(request, "submissions/tokens.html", {"listed": listed})


@login_required
@require_POST
def access_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.revoke_token(actor=request.user, token_id=pk)
    except WorkflowError as error:
        if isinstance(error, NotVisible):
            raise Http404(error.message) from None
        messages.error(request, _("失败：%(reason)s") % {"reason": error.message})
    else:
        messages.success(request, _("访问令牌已撤销。"))
    return see_other(reverse("access-tokens"))
