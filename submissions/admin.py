"""Admin for departments and users (the system administrator's) and role grants (the
security administrator's).

Role grants go through `workflow.services.grant_role`/`revoke_role` and account changes
through `change_account`/`create_account`, so that a change made here is audited like one
made with a command. No form edits groups or permissions directly for the same reason.
"""

from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from config.addresses import client_address
from submissions.models import Department, DepartmentUserObjectPermission
from workflow import services
from workflow.admin import AdministeredBy
from workflow.exceptions import WorkflowError
from workflow.machine import catalog
from workflow.permissions import Authority, role_of_permission
from workflow.services.accounts import ACCOUNT_FIELDS
from workflow.states import Administrator
from workflow.vocabulary import role_label

User = get_user_model()


@admin.register(Department)
class DepartmentAdmin(AdministeredBy):
    administrator = Administrator.SYSTEM
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class RoleGrantForm(forms.ModelForm):
    role = forms.ChoiceField(label=_("角色"), choices=())
    department = forms.ModelChoiceField(
        label=_("部门"),
        queryset=Department.objects.all(),
        required=False,
        help_text=_("留空表示所有部门（编制人和部门审核人必须指定部门）。"),
    )

    class Meta:
        model = DepartmentUserObjectPermission
        fields = ["user"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The built-in roles and every role a loaded workflow declares.
        self.fields["role"].choices = [(role, role_label(role)) for role in catalog().role_scopes]


@admin.register(DepartmentUserObjectPermission)
class RoleGrantAdmin(AdministeredBy):
    administrator = Administrator.SECURITY
    # Grants are given or taken away, never edited.
    permitted = frozenset({"view", "add", "delete"})
    form = RoleGrantForm
    list_display = ["user", "role", "content_object"]
    list_filter = ["content_object", "permission"]
    search_fields = ["user__username"]
    actions = ["revoke_selected"]

    @admin.display(description=_("角色"))
    def role(self, grant: DepartmentUserObjectPermission) -> str:
        return role_label(role_of_permission(grant.permission.codename) or "")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .filter(permission__codename__startswith="act_as_")
            .select_related("user", "permission", "content_object")
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # The admin wraps its views in a transaction; the grant services are durable
    # transactions of their own, so these two views run without the admin's.
    def changeform_view(
        self, request: HttpRequest, object_id=None, form_url="", extra_context=None
    ):
        return self._changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None):
        return self._delete_view(request, object_id, extra_context)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self._call(
            request,
            services.grant_role,
            obj.user,
            form.cleaned_data["role"],
            form.cleaned_data["department"],
        )

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> None:
        pass  # the grant's audit event is the record

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None):
        changelist = "admin:submissions_departmentuserobjectpermission_changelist"
        return HttpResponseRedirect(reverse(changelist))

    def delete_model(self, request: HttpRequest, obj: DepartmentUserObjectPermission) -> None:
        role = role_of_permission(obj.permission.codename)
        self._call(request, services.revoke_role, obj.user, role, obj.content_object)

    @admin.action(description=_("收回所选授权"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        for grant in queryset:
            self.delete_model(request, grant)

    def _call(self, request: HttpRequest, change: Any, user: Any, role: Any, department: Any):
        try:
            change(actor=request.user, user=user, role=role, department=department)
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)


admin.site.unregister(User)
# Roles are groups, given and taken only through grants: no screen edits the groups.
admin.site.unregister(Group)


# The request of the admin's password form being saved: Django builds the form with the user
# alone, and the service wants who sets the password and from where.
_password_request: ContextVar[HttpRequest] = ContextVar("password_request")


class AuditedPasswordForm(AdminPasswordChangeForm):
    """The admin's form that sets (or switches off) another user's password, saved through
    the audited password service: history, event and the rest in one transaction."""

    def save(self, commit: bool = True) -> Any:
        request = _password_request.get()
        wanted = self.cleaned_data["set_usable_password"]
        self.user = services.reset_password(
            actor=request.user,
            user=self.user,
            new=self.cleaned_data["password1"] if wanted else None,
            address=client_address(request),
        )
        return self.user


@admin.register(User)
class WorkflowUserAdmin(AdministeredBy, UserAdmin):
    """Users without the group and permission pickers: roles change through grants only,
    and every change of an account (its privileges above all) goes through the audited
    account service. Accounts are deactivated, never deleted: the log names them. Only the
    system administrator sees them (三员分立)."""

    administrator = Administrator.SYSTEM
    permitted = frozenset({"view", "add", "change"})

    list_display = ["username", "first_name", "last_name", "is_active", "is_superuser"]
    fieldsets = [
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("first_name", "last_name", "email")}),
        (_("状态"), {"fields": ("is_active", "is_staff", "is_superuser", "last_login", "roles")}),
    ]
    readonly_fields = ["last_login", "roles"]
    actions = []
    change_password_form = AuditedPasswordForm

    @admin.display(description=_("角色"))
    def roles(self, user: Any) -> str:
        return "、".join(role_label(role) for role in Authority.of(user).roles)

    # The account services are durable transactions of their own: these views run without
    # the admin's transaction, like the role grants'.
    @method_decorator(sensitive_post_parameters())
    def add_view(self, request: HttpRequest, form_url="", extra_context=None):
        return self._add_view(request, form_url, extra_context)

    def changeform_view(
        self, request: HttpRequest, object_id=None, form_url="", extra_context=None
    ):
        return self._changeform_view(request, object_id, form_url, extra_context)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = ""):
        """Django's view, its form saved through the password service (AuditedPasswordForm);
        a refused change is shown on the account's page."""
        token = _password_request.set(request)
        try:
            return super().user_change_password(request, id, form_url)
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)
            change = reverse("admin:auth_user_change", args=[id])
            return HttpResponseRedirect(change)
        finally:
            _password_request.reset(token)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            self._save_account(request, obj, form, change)
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)

    def _save_account(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            services.create_account(actor=request.user, user=obj)
            return
        changes = {
            name: form.cleaned_data[name] for name in form.changed_data if name in ACCOUNT_FIELDS
        }
        if changes:
            services.change_account(actor=request.user, user_id=obj.pk, changes=changes)
