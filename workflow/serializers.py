"""How the workflow's records look in JSON: audit events, delegations, workflow versions.
Output only: input is checked by the services."""

from typing import Any

from rest_framework import serializers

from workflow import tokens
from workflow.models import AccessToken, AuditEvent, Delegation, Workflow
from workflow.services.delegation import is_active


def _blank_to_none(value: str) -> str | None:
    return value or None


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    from_state = serializers.SerializerMethodField()
    to_state = serializers.SerializerMethodField()
    department = serializers.SerializerMethodField()
    on_behalf_of = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "on_behalf_of",
            "action",
            "outcome",
            "text",
            "department",
            "from_state",
            "to_state",
            "revision",
            "comment",
            "changes",
            "detail",
            "stream",
            "seq",
            "hash",
        ]

    def get_actor(self, event: AuditEvent) -> str | None:
        return _blank_to_none(event.actor_name)

    def get_on_behalf_of(self, event: AuditEvent) -> str | None:
        """Whom a delegate acted for (委托): the history names both people."""
        detail = event.detail if isinstance(event.detail, dict) else {}
        return detail.get("on_behalf_of") or None

    def get_from_state(self, event: AuditEvent) -> str | None:
        return _blank_to_none(event.from_state)

    def get_to_state(self, event: AuditEvent) -> str | None:
        return _blank_to_none(event.to_state)

    def get_department(self, event: AuditEvent) -> str | None:
        return _blank_to_none(event.department)


class DelegationSerializer(serializers.Serializer):
    """DESIGN.md, "Delegation": `{id, from, to, starts, ends, roles, active}`, and the reason."""

    id = serializers.IntegerField()
    # "from" is a Python keyword: the field is declared through the class namespace.
    locals()["from"] = serializers.CharField(source="delegator.username")
    to = serializers.CharField(source="delegate.username")
    starts = serializers.DateField()
    ends = serializers.DateField()
    roles = serializers.ListField(child=serializers.CharField())
    reason = serializers.CharField()
    active = serializers.SerializerMethodField()

    def get_active(self, delegation: Delegation) -> bool:
        return is_active(delegation)


class WorkflowVersionSummarySerializer(serializers.Serializer):
    number = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", default=None)
    stages = serializers.SerializerMethodField()

    def get_stages(self, version: Any) -> list[str]:
        return [stage["code"] for stage in version.document["stages"]]


class WorkflowSerializer(serializers.ModelSerializer):
    current_version = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()

    class Meta:
        model = Workflow
        fields = ["code", "name", "current_version", "versions"]

    def get_current_version(self, workflow: Workflow) -> int | None:
        versions = list(workflow.versions.all())
        return max((v.number for v in versions), default=None)

    def get_versions(self, workflow: Workflow) -> list[dict[str, Any]]:
        versions = sorted(workflow.versions.all(), key=lambda v: -v.number)
        return WorkflowVersionSummarySerializer(versions, many=True).data


class AccessTokenSerializer(serializers.ModelSerializer):
    """A token as its owner sees it: never the key (only its first characters)."""

    expires_at = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField()

    class Meta:
        model = AccessToken
        fields = [
            "id",
            "prefix",
            "label",
            "address",
            "created_at",
            "last_used_at",
            "expires_at",
            "current",
        ]

    def get_expires_at(self, token: AccessToken) -> Any:
        ends = tokens.expires_at(token)
        return serializers.DateTimeField().to_representation(ends) if ends else None

    def get_current(self, token: AccessToken) -> bool:
        """Whether it is the token this request came with."""
        request = self.context.get("request")
        used = getattr(request, "auth", None) if request is not None else None
        return isinstance(used, AccessToken) and used.pk == token.pk
