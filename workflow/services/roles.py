"""Granting and revoking roles, for one department or all."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from submissions.models import Department, DepartmentUserObjectPermission
from workflow import audit
from workflow.exceptions import InvalidInput, NotPermitted
from workflow.machine import catalog
from workflow.permissions import administers, ensure_role
from workflow.services.attempts import refuse_on_account


def _check_may_grant(
    action: str, actor: AbstractBaseUser | None, user: AbstractBaseUser, role: Any, department
) -> None:
    """Only administrators change roles; a refused attempt is recorded on the user's stream."""
    if administers(actor):
        return
    refuse_on_account(
        NotPermitted("admin_only_roles"),
        action=action,
        actor=actor,
        user=user,
        department=department.code if department else "",
        role=str(role)[:64],
    )


def _role_and_permission(role: Any, department: Department | None) -> tuple[str, Permission]:
    """A role the built-ins or a loaded workflow declare, and the permission that scopes it."""
    scopes = catalog().role_scopes
    if not isinstance(role, str) or role not in scopes:
        names = ", ".join(sorted(scopes))
        raise InvalidInput({"role": [_("未知角色，应为：%(n)s") % {"n": names}]})
    if scopes[role] == "department" and department is None:
        raise InvalidInput({"department": [_("此角色必须指定部门。")]})
    _group, permission = ensure_role(str(role))
    return str(role), permission


def _record_grant(action: str, actor: AbstractBaseUser | None, user, role: str, department) -> None:
    audit.record(
        stream=audit.user_stream(user.pk),
        actor=actor,
        action=action,
        department=department.code if department else "",
        detail={"user": user.get_username(), "role": role},
    )


def grant_role(
    *,
    actor: AbstractBaseUser | None,
    user: AbstractBaseUser,
    role: Any,
    department: Department | None = None,
) -> bool:
    """Give `user` the role, for one department or (with none) for all. False if held."""
    _check_may_grant("grant_role", actor, user, role, department)
    return _grant_role(actor, user, role, department)


@transaction.atomic(durable=True)
def _grant_role(actor, user, role: Any, department: Department | None) -> bool:
    role, permission = _role_and_permission(role, department)
    group, _created = Group.objects.get_or_create(name=role)
    changed = not user.groups.filter(pk=group.pk).exists()
    user.groups.add(group)
    if department is not None:
        held = DepartmentUserObjectPermission.objects.filter(
            user=user, permission=permission, content_object=department
        ).exists()
        if not held:
            assign_perm(permission, user, department)
            changed = True
    elif not user.user_permissions.filter(pk=permission.pk).exists():
        user.user_permissions.add(permission)
        changed = True
    if changed:
        _record_grant("grant_role", actor, user, role, department)
    return changed


def revoke_role(
    *,
    actor: AbstractBaseUser | None,
    user: AbstractBaseUser,
    role: Any,
    department: Department | None = None,
) -> bool:
    """Take the role away for one department or (with none) everywhere. False if not held.

    The user leaves the role's group once no department is left to hold it for.
    """
    _check_may_grant("revoke_role", actor, user, role, department)
    return _revoke_role(actor, user, role, department)


@transaction.atomic(durable=True)
def _revoke_role(actor, user, role: Any, department: Department | None) -> bool:
    role, permission = _role_and_permission(role, department)
    grants = DepartmentUserObjectPermission.objects.filter(user=user, permission=permission)
    changed = False
    if department is not None:
        if grants.filter(content_object=department).exists():
            remove_perm(permission, user, department)
            changed = True
    else:
        changed = grants.exists() or user.user_permissions.filter(pk=permission.pk).exists()
        grants.delete()
        user.user_permissions.remove(permission)
    still_held = grants.exists() or user.user_permissions.filter(pk=permission.pk).exists()
    group = Group.objects.filter(name=role).first()
    if group is not None and not still_held and user.groups.filter(pk=group.pk).exists():
        user.groups.remove(group)
        changed = True
    if changed:
        _record_grant("revoke_role", actor, user, role, department)
    return changed
