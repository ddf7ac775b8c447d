"""Read-only views of the outbox, notifications and deadlines, for operators (the system
administrator); preferences may be changed for a user who asks, and an e-mail that failed
may be sent again."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications import services
from notifications.models import Notification, Preference
from workflow.admin import AdministeredBy, administrator_of
from workflow.admin import ReadOnly as ReadOnlyAdmin
from workflow.models import OutboxMessage, StageVisit
from workflow.states import Administrator


@admin.register(OutboxMessage)
class OutboxAdmin(ReadOnlyAdmin):
    administrator = Administrator.SYSTEM
    list_display = [
        "id",
        "kind",
        "recipient",
        "text",
        "created_at",
        "dispatched_at",
        "delivered_at",
    ]
    list_filter = ["kind"]
    list_select_related = ["recipient", "text"]


class EmailStateFilter(admin.SimpleListFilter):
    """Where the e-mail beside a notification stands; "failed" are those given up."""

    title = gettext_lazy("邮件")
    parameter_name = "email"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("failed", _("已放弃")),
            ("retrying", _("等待重试")),
            ("pending", _("待发送")),
            ("sent", _("已发送")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "failed":
            return queryset.filter(email_failed_at__isnull=False)
        if value == "retrying":
            return queryset.filter(email_pending=True, email_failures__gt=0)
        if value == "pending":
            return queryset.filter(email_pending=True)
        if value == "sent":
            return queryset.filter(emailed_at__isnull=False)
        return queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    administrator = Administrator.SYSTEM
    list_display = [
        "id",
        "kind",
        "recipient",
        "text",
        "created_at",
        "read_at",
        "emailed_at",
        "email_failures",
        "email_retry_at",
        "email_failed_at",
        "email_error_start",
    ]
    list_filter = [EmailStateFilter, "kind"]
    list_select_related = ["recipient", "text"]
    actions = ["retry_email"]

    def has_retry_email_permission(self, request: HttpRequest) -> bool:
        return administrator_of(request) == self.administrator

    @admin.display(description=gettext_lazy("邮件最近错误"))
    def email_error_start(self, notification: Notification) -> str:
        # The whole error is on the notification's own page.
        return Truncator(notification.email_error).chars(120)

    @admin.action(description=gettext_lazy("重新发送所选通知的邮件"), permissions=["retry_email"])
    def retry_email(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = services.retry_emails(queryset.values_list("pk", flat=True))
        self.message_user(
            request, _("%(n)d 封邮件将在下次发送时重试。") % {"n": count}, messages.SUCCESS
        )


@admin.register(StageVisit)
class StageVisitAdmin(ReadOnlyAdmin):
    administrator = Administrator.SYSTEM
    list_display = [
        "text",
        "stage",
        "entered_at",
        "due_at",
        "reminded_at",
        "escalated_at",
        "left_at",
    ]
    list_filter = ["stage"]
    list_select_related = ["text"]


@admin.register(Preference)
class PreferenceAdmin(AdministeredBy):
    administrator = Administrator.SYSTEM
    list_display = ["user", "email_enabled", "email_mode", "language"]
    list_select_related = ["user"]
