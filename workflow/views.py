"""The auditors' pages. (Being built: issue 4.)"""

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, **kwargs) -> HttpResponse:
    return HttpResponse(status=501)


audit_search = audit_text_history = _todo
