"""In-app notifications and e-mail preferences (DESIGN.md, "HTTP API")."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import messages, services
from notifications.models import Notification, Preference
from submissions.api import body_of
from workflow.exceptions import NotVisible


class NotificationSerializer(serializers.ModelSerializer):
    text_title = serializers.CharField(source="text.title")
    actor = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField()
    read = serializers.SerializerMethodField()
    link = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "stage",
            "text",
            "text_title",
            "actor",
            "comment",
            "message",
            "link",
            "created_at",
            "read",
            "read_at",
        ]

    def get_actor(self, notification: Notification) -> str | None:
        return notification.actor_name or None

    def get_message(self, notification: Notification) -> str:
        return messages.sentence(notification)

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None

    def get_link(self, notification: Notification) -> str:
        return messages.text_link(notification.text_id)


class PreferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Preference
        fields = ["email_enabled", "email_mode", "language"]


def _unread(request: Request) -> int:
    return services.unread_count(request.user)


class NotificationList(GenericAPIView):
    serializer_class = NotificationSerializer

    @extend_schema(parameters=[OpenApiParameter("unread", bool, description="only unread")])
    def get(self, request: Request) -> Response:
        notifications = services.listed(request.user).select_related("text", "text__route")
        if request.query_params.get("unread") in ("1", "true", "yes"):
            notifications = notifications.filter(read_at__isnull=True)
        page = self.paginate_queryset(notifications.order_by("-created_at", "-id"))
        response = self.get_paginated_response(NotificationSerializer(page, many=True).data)
        response.data["unread"] = _unread(request)
        return response


class UnreadCount(APIView):
    @extend_schema(responses=inline_serializer("Unread", {"unread": serializers.IntegerField()}))
    def get(self, request: Request) -> Response:
        return Response({"unread": _unread(request)})


class NotificationRead(APIView):
    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        notification = services.mark_read(request.user, pk)
        if notification is None:
            raise NotVisible("notification_not_found")
        return Response(NotificationSerializer(notification).data)


class NotificationReadAll(APIView):
    @extend_schema(
        request=None, responses=inline_serializer("ReadAll", {"marked": serializers.IntegerField()})
    )
    def post(self, request: Request) -> Response:
        return Response({"marked": services.mark_all_read(request.user)})


class PreferenceView(APIView):
    @extend_schema(responses=PreferenceSerializer)
    def get(self, request: Request) -> Response:
        return Response(PreferenceSerializer(services.preference_of(request.user)).data)

    @extend_schema(request=PreferenceSerializer, responses=PreferenceSerializer)
    def patch(self, request: Request) -> Response:
        preference = services.update_preference(request.user, body_of(request))
        return Response(PreferenceSerializer(preference).data)
