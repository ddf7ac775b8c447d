"""Read-only views of the outbox, notifications and deadlines, for operators; preferences
may be changed for a user who asks."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import Notification, OutboxMessage, Preference, StageVisit


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxAdmin(ReadOnlyAdmin):
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


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "recipient", "text", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient", "text"]


@admin.register(StageVisit)
class StageVisitAdmin(ReadOnlyAdmin):
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
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email_enabled", "email_mode", "language"]
    list_select_related = ["user"]
