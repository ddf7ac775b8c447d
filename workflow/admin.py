"""The administrators' view of workflow versions (with each version's diagram), publishing
a new version, the delegations and the scripts' access tokens (revoked here, audited).
Versions are never edited or deleted: a change is a new version, through the same service
and validation as `load_workflow`."""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from workflow import services, tokens
from workflow.definitions import DOCUMENT_MAX_BYTES
from workflow.diagram import render_svg
from workflow.exceptions import WorkflowError
from workflow.models import AccessToken, Delegation, Workflow, WorkflowVersion
from workflow.services.delegation import is_active
from workflow.vocabulary import role_label


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Workflow)
class WorkflowAdmin(ReadOnly):
    list_display = ["code", "name", "version_count"]

    @admin.display(description=gettext_lazy("版本数"))
    def version_count(self, workflow: Workflow) -> int:
        return workflow.versions.count()


class PublishForm(forms.Form):
    document = forms.CharField(
        label=gettext_lazy("流程文档（YAML 或 JSON）"),
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false"}),
        required=False,
    )
    upload = forms.FileField(label=gettext_lazy("或上传文件"), required=False)

    def source(self) -> bytes | str:
        upload = self.cleaned_data.get("upload")
        if upload is not None:
            return upload.read(DOCUMENT_MAX_BYTES + 1)
        return self.cleaned_data.get("document") or ""


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(ReadOnly):
    list_display = ["workflow", "number", "stages", "created_at", "created_by"]
    list_filter = ["workflow"]
    fields = ["workflow", "number", "created_at", "created_by", "diagram", "document_json"]
    readonly_fields = fields
    change_list_template = "admin/workflow/workflowversion/change_list.html"

    @admin.display(description=gettext_lazy("阶段"))
    def stages(self, version: WorkflowVersion) -> str:
        return " → ".join(stage["name"] for stage in version.document["stages"])

    @admin.display(description=gettext_lazy("流程图"))
    def diagram(self, version: WorkflowVersion) -> str:
        roles = {
            lane["role"]: role_label(lane["role"])
            for stage in version.document["stages"]
            for lane in stage["lanes"]
        }
        # render_svg escapes every name the document holds.
        return mark_safe(render_svg(version.document, roles))  # noqa: S308

    @admin.display(description=gettext_lazy("流程文档"))
    def document_json(self, version: WorkflowVersion) -> str:
        shown = json.dumps(version.document, ensure_ascii=False, indent=2)
        return format_html("<pre class='workflow-document'>{}</pre>", shown)

    def get_urls(self) -> list:
        publish = self.admin_site.admin_view(self.publish_view)
        return [
            path("publish/", publish, name="workflow_workflowversion_publish"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        extra = {**(extra_context or {}), "may_publish": request.user.is_superuser}
        return super().changelist_view(request, extra)

    def publish_view(self, request: HttpRequest) -> HttpResponse:
        """Publish a new version; a refused document is shown again with every problem
        named by its field. Not wrapped in the admin's transaction: the service is durable."""
        form = PublishForm(request.POST or None, request.FILES or None)
        problems: list[str] = []
        status = 200
        if request.method == "POST" and form.is_valid():
            try:
                version = services.load_workflow(actor=request.user, source=form.source())
            except WorkflowError as error:
                errors = getattr(error, "errors", {"document": [error.message]})
                problems = [f"{field}: {text}" for field, items in errors.items() for text in items]
                status = error.status
            else:
                messages.success(
                    request,
                    _("已发布 %(code)s 第 %(n)d 版。")
                    % {"code": version.workflow.code, "n": version.number},
                )
                change = reverse("admin:workflow_workflowversion_change", args=[version.pk])
                return HttpResponseRedirect(change)
        context = {
            **self.admin_site.each_context(request),
            "title": _("发布新版本"),
            "form": form,
            "problems": problems,
            "opts": self.model._meta,
            "may_publish": request.user.is_superuser,
        }
        return render(
            request, "admin/workflow/workflowversion/publish.html", context, status=status
        )


@admin.register(Delegation)
class DelegationAdmin(ReadOnly):
    list_display = ["delegator", "delegate", "starts", "ends", "roles", "active", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["delegator__username", "delegate__username"]

    @admin.display(description=gettext_lazy("生效中"), boolean=True)
    def active(self, delegation: Delegation) -> bool:
        return is_active(delegation)


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnly):
    """Everyone's tokens (never a key: only its first characters), revoked by an action that
    goes through the audited service."""

    list_display = [
        "user",
        "prefix",
        "label",
        "address",
        "created_at",
        "last_used_at",
        "state",
        "revoked_at",
        "revoked_reason",
    ]
    list_filter = ["revoked_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "prefix"]
    exclude = ["key_hash"]
    actions = ["revoke_selected"]

    @admin.display(description=gettext_lazy("状态"))
    def state(self, token: AccessToken) -> str:
        return str(STATES[tokens.status(token)])

    @admin.action(description=gettext_lazy("撤销所选访问令牌"))
    def revoke_selected(self, request: HttpRequest, queryset: Any) -> None:
        revoked = 0
        for pk in queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True):
            try:
                services.revoke_token(actor=request.user, token_id=pk)
                revoked += 1
            except WorkflowError as error:
                self.message_user(request, error.message, messages.ERROR)
        message = ngettext("已撤销 %(n)d 个访问令牌。", "已撤销 %(n)d 个访问令牌。", revoked)
        self.message_user(request, message % {"n": revoked})


STATES = {
    tokens.ACTIVE: gettext_lazy("有效"),
    tokens.EXPIRED: gettext_lazy("已过期"),
    tokens.REVOKED: gettext_lazy("已撤销"),
}
