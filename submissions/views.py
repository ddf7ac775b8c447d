"""Server-rendered pages of drafters and reviewers. (Being built: issue 4.)"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from submissions import selectors
from submissions.api import authority_of


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "submissions/login.html", {"form": None})
    authority = authority_of(request)
    context = {
        "authority": authority,
        "inbox": selectors.inbox(authority)[:50],
        "texts": selectors.text_list(authority, {})[:50],
    }
    return render(request, "submissions/home.html", context)


def _todo(request: HttpRequest, **kwargs) -> HttpResponse:
    return HttpResponse(status=501)


text_list = text_create = text_import = text_detail = text_edit = text_act = text_diff = _todo
inbox = bulk_approve = _todo
