"""The administrators' view of workflow versions (with each version's diagram), publishing
a new version, the delegations and the scripts' access tokens (revoked here, audited).
Versions are never edited or deleted: a change is a new version, through the same service
and validation as `load_workflow`.

Every page of the admin belongs to one of the three administrators (`AdministeredBy`);
the pages third-party apps register are given theirs at the end of this module."""

import json
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
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
from workflow.permissions import Authority
from workflow.services.delegation import is_active
from workflow.states import Administrator
from workflow.vocabulary import role_label


def administrator_of(request: HttpRequest) -> str | None:
    """Which of the three administrators the signed-in user is (loaded once a request: the
    admin asks for every model on every page)."""
    if not hasattr(request, "_administrator"):
        user = request.user
        staff = user.is_active and user.is_staff
        request._administrator = Authority.of(user).administrator if staff else None
    return request._administrator


class AdministeredBy(admin.ModelAdmin):
    """A page of the admin that belongs to one of the three administrators (三员分立): only
    they see it, and only for what `permitted` names. Django's own model permissions and
    the superuser flag are not consulted: the role decides, so that a superuser without
    it sees nothing here and nobody reaches another administrator's pages.
    tests/test_separation_of_duties.py checks that every registered page is one of these."""

    administrator: str = ""
    permitted: frozenset[str] = frozenset({"view", "add", "change", "delete"})

    def _may(self, request: HttpRequest, what: str) -> bool:
        return what in self.permitted and administrator_of(request) == self.administrator

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may(request, "view")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, "view")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may(request, "add")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, "change")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, "delete")


class ReadOnly(AdministeredBy):
    permitted = frozenset({"view"})


@admin.register(Workflow)
class WorkflowAdmin(ReadOnly):
    administrator = Administrator.SYSTEM
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
    administrator = Administrator.SYSTEM
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
        extra = {**(extra_context or {}), "may_publish": self._may_publish(request)}
        return super().changelist_view(request, extra)

    def _may_publish(self, request: HttpRequest) -> bool:
        # Publishing changes how every text is routed: the system administrator's, like
        # `load_workflow` on the command line (the service checks it again).
        return administrator_of(request) == Administrator.SYSTEM

    def publish_view(self, request: HttpRequest) -> HttpResponse:
        """Publish a new version; a refused document is shown again with every problem
        named by its field. Not wrapped in the admin's transaction: the service is durable."""
        if not self._may_publish(request):
            raise PermissionDenied
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
            "may_publish": True,
        }
        return render(
            request, "admin/workflow/workflowversion/publish.html", context, status=status
        )


@admin.register(Delegation)
class DelegationAdmin(ReadOnly):
    # A delegation passes roles on for a while: the security administrator's to oversee.
    administrator = Administrator.SECURITY
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

    administrator = Administrator.SYSTEM

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


# Pages that installed apps register, each given to one administrator: unlocking an account
# (axes' attempts) and revoking a token are account work; the sign-in logs are for the
# audit administrator to read.
def _assign(model: type, administrator: str, permitted: frozenset[str]) -> None:
    if not admin.site.is_registered(model):
        return
    original = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    assigned = type(
        original.__name__,
        (AdministeredBy, original),
        {"administrator": administrator, "permitted": permitted, "__module__": __name__},
    )
    admin.site.register(model, assigned)


_assign(AccessAttempt, Administrator.SYSTEM, frozenset({"view", "delete"}))
_assign(AccessLog, Administrator.AUDIT, frozenset({"view"}))
_assign(AccessFailureLog, Administrator.AUDIT, frozenset({"view"}))
