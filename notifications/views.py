"""The notification pages. (Being built: issue 4.)"""

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, **kwargs) -> HttpResponse:
    return HttpResponse(status=501)


notification_list = bell = mark_read = preferences = _todo
