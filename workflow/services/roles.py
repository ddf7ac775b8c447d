"""Granting and revoking roles, for one department or all: the security administrator's
job (三员分立), or the command line's.

The three administrator roles (`Administrator`) are exclusive: whoever holds one holds no
other role, administrator or not, so that nobody both administers and audits, or
administers and acts on texts. A grant that would break this is refused and recorded.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from submissions.models import Department, DepartmentUserObjectPermission
from workflow import audit
from workflow.exceptions import InvalidInput, NotPermitted
from workflow.machine import catalog
from workflow.permissions import administers, ensure_role, roles_held
from workflow.services.attempts import refuse_on_account
from workflow.states import ADMINISTRATOR_ROLES, Administrator


class _OneRoleOnly(Exception):
    """Raised inside a grant's transaction (rolling it back) when the grant would give an
    administrator a second role, or someone with a role an administrator's."""

    def __init__(self, held: list[str]) -> None:
        self.held = held


def _check_may_grant(
    action: str, actor: AbstractBaseUser | None, user: AbstractBaseUser, role: Any, department
) -> None:
    """Only the security administrator changes roles; a refused attempt is recorded on the
    user's stream."""
    if administers(actor, Administrator.SECURITY):
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
    if role in ADMINISTRATOR_ROLES and department is not None:
        whole = _("系统、安全、审计管理员管理整个系统，不按部门授予。")
        raise InvalidInput({"department": [whole]})
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
    """Give `user` the role, for one department or (with none) for all. False if held.

    Refused (and recorded) when either the role or one `user` holds is an administrator's
    and they differ: each administrator has that one role."""
    _check_may_grant("grant_role", actor, user, role, department)
    try:
        return _grant_role(actor, user, role, department)
    except _OneRoleOnly as conflict:
        refuse_on_account(
            NotPermitted(
                "administrator_holds_one_role",
                user=user.get_username(),
                held=conflict.held,
                role=str(role),
            ),
            action="grant_role",
            actor=actor,
            user=user,
            department=department.code if department else "",
            role=str(role),
        )


def _check_one_role(user: AbstractBaseUser, role: str) -> None:
    """Within the grant's transaction, with the user's row locked so that two grants to one
    person at once cannot each see the other's role missing."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    held = [other for other in roles_held(user) if other != role]
    if role in ADMINISTRATOR_ROLES and held:
        raise _OneRoleOnly(held)
    administering = [other for other in held if other in ADMINISTRATOR_ROLES]
    if administering:
        raise _OneRoleOnly(administering)


@transaction.atomic(durable=True)
def _grant_role(actor, user, role: Any, department: Department | None) -> bool:
    role, permission = _role_and_permission(role, department)
    _check_one_role(user, role)
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
