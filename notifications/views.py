"""The notification pages: the list under the bell, the bell's count, the preferences, the
header's language switch, and 催办 from a text's page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from config.middleware import background_poll
from notifications import language as user_language
from notifications import services
from notifications.messages import sentence
from notifications.models import EmailMode, NoticeGroup
from workflow import services as workflow_services
from workflow.exceptions import InvalidInput, NotVisible, WorkflowError

PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if "all" in request.POST:
            marked = services.mark_all_read(request.user)
            if marked:
                messages.success(request, _("已全部标为已读。"))
        return redirect("notifications")
    # The text and its route: a sentence names the stage in the words of its version.
    notifications = services.listed(request.user).select_related("text", "text__route")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"notification": n, "sentence": sentence(n), "group": _group_label(n)}
        for n in page.object_list
    ]
    unread = services.unread_count(request.user)
    return render(
        request, "notifications/list.html", {"page": page, "rows": rows, "unread": unread}
    )


def _group_label(notification) -> str:
    group = services.group_of(notification.kind, notification.stage)
    return str(NoticeGroup(group).label) if group else ""


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


def _choices_from(post) -> dict:
    ticked = ("on", "true", "1")
    changes = {
        "email_enabled": post.get("email_enabled") in ticked,
        "email_mode": post.get("email_mode", ""),
        **{name: post.get(name) in ticked for name in services.PREFERENCE_GROUP_FIELDS},
    }
    # The language has its one place, the header's switch; a form that still sends it sets
    # the same setting.
    if "language" in post:
        changes["language"] = post.get("language", "")
    return changes


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    preference = services.preference_of(request.user)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.update_preference(request.user, _choices_from(request.POST))
        except InvalidInput as error:
            errors = error.errors
        else:
            messages.success(request, _("通知设置已保存。"))
            return redirect("notification-preferences")
    groups = [
        {
            "code": code,
            "label": label,
            "in_app": getattr(preference, f"in_app_{code}"),
            "email": getattr(preference, f"email_{code}"),
        }
        for code, label in NoticeGroup.choices
    ]
    context = {
        "preference": preference,
        "errors": errors,
        "email_modes": EmailMode.choices,
        "groups": groups,
        "language_name": translation.get_language_info(preference.language)["name_translated"],
    }
    return render(request, "notifications/preferences.html", context, status=400 if errors else 200)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The header's language switch: what Django's set_language does (the cookie, back to
    `next`), and for a signed-in user their one language setting, kept for later sign-ins."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        # Django's view would set a cookie for any language Django knows (say "fr"), which
        # this site does not offer: it only goes back, changing nothing.
        request.POST = request.POST.copy()
        request.POST["language"] = ""
        return django_set_language(request)
    response = django_set_language(request)
    if request.user.is_authenticated:
        services.set_language(request.user, language)
        user_language.remember(request, language)
    return response


@login_required
@require_POST
def urge(request: HttpRequest, pk: int) -> HttpResponse:
    """催办 from a text's page: back to the page with a message, or the refusal's page."""
    try:
        workflow_services.urge(actor=request.user, text_id=pk)
    except NotVisible:
        raise Http404 from None
    except WorkflowError as error:
        context = {"message": error.message, "back": reverse("text-detail", args=[pk])}
        return render(request, "notifications/refused.html", context, status=error.status)
    messages.success(request, _("已催办：本阶段尚未审批的审核人将收到提醒。"))
    return _see_other(pk)


def _see_other(pk: int) -> HttpResponse:
    response = redirect(reverse("text-detail", args=[pk]))
    response.status_code = 303
    return response
