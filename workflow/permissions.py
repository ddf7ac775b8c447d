"""Who holds which role for which departments, and which texts they may see.

A role is a Django group. Its scope is the permission `submissions.act_as_<role>`: held
globally (a user permission) it covers every department, held on a Department object (a
guardian grant) it covers that one. Superusers hold every role everywhere, but separation
of duties (`workflow.services`) binds them like anyone else.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.db.models import Exists, OuterRef, Q, QuerySet

from submissions.models import (
    Department,
    DepartmentUserObjectPermission,
    ProjectText,
    ProjectTextGroupObjectPermission,
    ProjectTextUserObjectPermission,
)
from workflow.models import Decision
from workflow.states import Action, Role

TEXT_READ_PERMS = ("view_projecttext", "change_projecttext")


def role_permission(role: Role) -> str:
    """The codename of the Department permission that scopes `role`."""
    return f"act_as_{role.value}"


ROLE_BY_CODENAME = {role_permission(role): role for role in Role}


@dataclass(frozen=True)
class Scope:
    """The departments a user holds one role for."""

    everywhere: bool = False
    department_ids: frozenset[int] = frozenset()

    def covers(self, department_id: int) -> bool:
        return self.everywhere or department_id in self.department_ids

    def __bool__(self) -> bool:
        return self.everywhere or bool(self.department_ids)

    def department_filter(self, lookup: str = "department_id") -> Q:
        if self.everywhere:
            # Not Q(): an empty Q vanishes when OR-ed with others, and would mean "nothing".
            return Q(**{f"{lookup}__isnull": False})
        return Q(**{f"{lookup}__in": self.department_ids})


NOWHERE = Scope()


@dataclass(frozen=True)
class Authority:
    """What one user holds: loaded once (three queries) and passed around."""

    user: AbstractBaseUser
    scopes: dict[Role, Scope] = field(default_factory=dict)

    @classmethod
    def of(cls, user: AbstractBaseUser) -> "Authority":
        if not user.is_active:
            return cls(user)
        if user.is_superuser:
            return cls(user, {role: Scope(everywhere=True) for role in Role})
        groups = set(user.groups.values_list("name", flat=True))
        held = [role for role in Role if role.value in groups]
        if not held:
            return cls(user)
        codenames = [role_permission(role) for role in held]
        global_codenames = set(
            Permission.objects.filter(
                user=user,
                content_type__app_label="submissions",
                content_type__model="department",
                codename__in=codenames,
            ).values_list("codename", flat=True)
        )
        per_department: dict[str, set[int]] = {}
        grants = DepartmentUserObjectPermission.objects.filter(
            user=user, permission__codename__in=codenames
        ).values_list("permission__codename", "content_object_id")
        for codename, department_id in grants:
            per_department.setdefault(codename, set()).add(department_id)
        scopes = {}
        for role in held:
            codename = role_permission(role)
            scopes[role] = Scope(
                everywhere=codename in global_codenames,
                department_ids=frozenset(per_department.get(codename, ())),
            )
        return cls(user, scopes)

    def scope(self, role: Role) -> Scope:
        return self.scopes.get(role, NOWHERE)

    def holds(self, role: Role, department_id: int) -> bool:
        return self.scope(role).covers(department_id)

    @property
    def roles(self) -> list[Role]:
        return [role for role, scope in self.scopes.items() if scope]

    def departments(self) -> QuerySet[Department]:
        """Departments any of the user's roles covers."""
        scopes = [scope for scope in self.scopes.values() if scope]
        if any(scope.everywhere for scope in scopes):
            return Department.objects.all()
        ids = set().union(*(scope.department_ids for scope in scopes)) if scopes else set()
        return Department.objects.filter(id__in=ids)


def administers(actor: AbstractBaseUser | None) -> bool:
    """May change accounts, privileges and roles: an active superuser, or the command line
    (None: whoever runs manage.py already owns the installation)."""
    return actor is None or (actor.is_active and actor.is_superuser)


def _reached(action: Action) -> Exists:
    return Exists(Decision.objects.filter(text=OuterRef("pk"), action=action))


def _granted_texts(user: AbstractBaseUser) -> Q:
    """Texts shared with the user (or a group of theirs) by a guardian object grant."""
    by_user = ProjectTextUserObjectPermission.objects.filter(
        user=user, permission__codename__in=TEXT_READ_PERMS
    ).values("content_object_id")
    by_group = ProjectTextGroupObjectPermission.objects.filter(
        group__user=user, permission__codename__in=TEXT_READ_PERMS
    ).values("content_object_id")
    return Q(pk__in=by_user) | Q(pk__in=by_group)


def visible_texts(authority: Authority) -> QuerySet[ProjectText]:
    """The texts this user may see, as one query.

    Drafters, department reviewers and auditors see their departments' texts; finance
    reviewers and approvers see a text once it has reached their stage; anyone sees a
    text shared with them.
    """
    texts = ProjectText.objects.all()
    if not authority.user.is_active:
        return texts.none()
    if authority.user.is_superuser:
        return texts
    condition = _granted_texts(authority.user)
    for role in (Role.DRAFTER, Role.DEPT_REVIEWER, Role.AUDITOR):
        scope = authority.scope(role)
        if scope:
            condition |= scope.department_filter()
    staged = (
        (Role.FINANCE_REVIEWER, Action.DEPT_APPROVE),
        (Role.APPROVER, Action.FINANCE_APPROVE),
    )
    for role, reached_by in staged:
        scope = authority.scope(role)
        if scope:
            condition |= scope.department_filter() & Q(_reached(reached_by))
    return texts.filter(condition)


def role_holders(role: Role, department_id: int) -> QuerySet:
    """Active users who hold `role` for the department (superusers only by grant)."""
    codename = role_permission(role)
    everywhere = Q(
        user_permissions__codename=codename,
        user_permissions__content_type__app_label="submissions",
    )
    here = Q(
        departmentuserobjectpermission__permission__codename=codename,
        departmentuserobjectpermission__content_object_id=department_id,
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=role.value)
        .filter(everywhere | here)
        .distinct()
    )
