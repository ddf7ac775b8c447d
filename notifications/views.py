"""The notification pages: the list under the bell, the bell's count, the preferences."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.middleware import background_poll
from notifications import services
from notifications.messages import sentence
from notifications.models import EmailMode, Notification
from workflow.exceptions import InvalidInput

PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if "all" in request.POST:
            services.mark_all_read(request.user)
        return redirect("notifications")
    notifications = Notification.objects.filter(recipient=request.user).select_related("text")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"notification": n, "sentence": sentence(n)} for n in page.object_list]
    return render(request, "notifications/list.html", {"page": page, "rows": rows})


# The header polls this every 30 s: not the user's activity, so it never renews the session.
@background_poll
@login_required
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    # The count comes from the context processor, like the header's.
    return render(request, "notifications/bell.html")


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    if services.mark_read(request.user, pk) is None:
        raise Http404
    return redirect("notifications")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    preference = services.preference_of(request.user)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        changes = {
            "email_enabled": request.POST.get("email_enabled") in ("on", "true", "1"),
            "email_mode": request.POST.get("email_mode", ""),
            "language": request.POST.get("language", ""),
        }
        try:
            services.update_preference(request.user, changes)
        except InvalidInput as error:
            errors = error.errors
        else:
            messages.success(request, _("通知设置已保存。"))
            return redirect("notification-preferences")
    context = {
        "preference": preference,
        "errors": errors,
        "email_modes": EmailMode.choices,
        "languages": settings.LANGUAGES,
    }
    return render(request, "notifications/preferences.html", context, status=400 if errors else 200)
