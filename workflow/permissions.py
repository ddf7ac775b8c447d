"""Who holds which role for which departments, for whom they act, and how roles are found.

A role is a Django group. Its scope is the permission `submissions.act_as_<role>`: held
globally (a user permission) it covers every department, held on a Department object (a
guardian grant) it covers that one. The superuser flag grants nothing here (三员分立, issue
11): administering is the three administrator roles' (`workflow.states.Administrator`),
each held like any other role. A delegation (委托) lets a user act for another in some of
that person's review roles (`Mandate`).

Which texts a user may see, may act on and waits for is `workflow.policy`'s to say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone

from submissions.models import Department, DepartmentUserObjectPermission
from workflow import prepared
from workflow.models import Delegation
from workflow.states import ADMINISTRATOR_ROLES, Administrator, Role


def role_permission(role: str) -> str:
    """The codename of the Department permission that scopes `role`."""
    return f"act_as_{role}"


def role_of_permission(codename: str) -> str | None:
    return codename.removeprefix("act_as_") if codename.startswith("act_as_") else None


def ensure_role(role: str, name: str = "") -> tuple[Group, Permission]:
    """The group and the scoping permission of a role, created the first time it is used."""
    group, _created = Group.objects.get_or_create(name=role)
    permission, _created = Permission.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(Department),
        codename=role_permission(role),
        defaults={"name": f"Act as {name or role}"[:255]},
    )
    return group, permission


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
EVERYWHERE = Scope(everywhere=True)


def _held_rows(
    *,
    user_id: int | None = None,
    user_ids: list[int] | None = None,
    codenames: list[str] | None = None,
    department_id: int | None = None,
    delegated_on: date | None = None,
    delegations_on: date | None = None,
) -> list[tuple[int, str, str, int | None]]:
    """(user, kind, name, department) rows of what users hold, in one statement: "group"
    rows name a group, "everywhere" and "department" rows a role's permission (the latter
    with its department), "mandate" rows (with `delegated_on`) a delegator acted for today.

    For the named users, or (none named) every active user; for the roles of `codenames`
    only, or every role. Plain SQL: it runs on every action and every request, and
    building it through the ORM cost more than running it."""
    user_model = get_user_model()
    user = user_model._meta.db_table
    ids = [user_id] if user_id is not None else list(user_ids or [])
    named = user_id is not None or user_ids is not None
    who = f"x.user_id IN ({', '.join(['%s'] * len(ids))})" if named else "u.is_active = %s"
    who_params = ids if named else [True]
    if codenames is None:
        which, which_params = "p.codename LIKE %s", ["act_as_%"]
        groups, group_params = "", []
    else:
        marks = ", ".join(["%s"] * len(codenames))
        which, which_params = f"p.codename IN ({marks})", list(codenames)
        groups = f"AND g.name IN ({marks})"
        group_params = [c.removeprefix("act_as_") for c in codenames]
    here, here_params = "", []
    if department_id is not None:
        here, here_params = "AND x.content_object_id = %s", [department_id]
    sql = [
        f"""SELECT x.user_id, 'group', g.name, CAST(NULL AS INTEGER)
            FROM {user_model.groups.through._meta.db_table} x
            JOIN {Group._meta.db_table} g ON g.id = x.group_id
            JOIN {user} u ON u.id = x.user_id
            WHERE {who} {groups}""",  # noqa: S608 (table names only)
        f"""SELECT x.user_id, 'everywhere', p.codename, CAST(NULL AS INTEGER)
            FROM {user_model.user_permissions.through._meta.db_table} x
            JOIN {Permission._meta.db_table} p ON p.id = x.permission_id
            JOIN {ContentType._meta.db_table} c ON c.id = p.content_type_id
            JOIN {user} u ON u.id = x.user_id
            WHERE {who} AND {which} AND c.app_label = 'submissions'
              AND c.model = 'department'""",  # noqa: S608 (table names only)
        f"""SELECT x.user_id, 'department', p.codename, x.content_object_id
            FROM {DepartmentUserObjectPermission._meta.db_table} x
            JOIN {Permission._meta.db_table} p ON p.id = x.permission_id
            JOIN {user} u ON u.id = x.user_id
            WHERE {who} AND {which} {here}""",  # noqa: S608 (table names only)
    ]
    params = [*who_params, *group_params, *who_params, *which_params]
    params += [*who_params, *which_params, *here_params]
    if delegated_on is not None:
        sql.append(
            f"""SELECT x.delegate_id, 'mandate', CAST(x.delegator_id AS VARCHAR(20)),
                   CAST(NULL AS INTEGER)
                FROM {Delegation._meta.db_table} x
                JOIN {user} d ON d.id = x.delegator_id
                WHERE x.delegate_id IN ({", ".join(["%s"] * len(ids))})
                  AND x.revoked_at IS NULL AND x.starts <= %s AND x.ends >= %s
                  AND d.is_active = %s"""  # noqa: S608 (table names only)
        )
        params += [*ids, delegated_on, delegated_on, True]
    if delegations_on is not None:
        # Delegations in force that day whose delegator is in one of the roles' groups:
        # (delegator, "delegated", the roles as JSON, delegate).
        groups_of_roles = (
            f"AND g.name IN ({', '.join(['%s'] * len(codenames))})" if codenames else ""
        )
        sql.append(
            f"""SELECT x.delegator_id, 'delegated', CAST(x.roles AS VARCHAR(4000)),
                   x.delegate_id
                FROM {Delegation._meta.db_table} x
                JOIN {user} d ON d.id = x.delegate_id
                WHERE x.revoked_at IS NULL AND x.starts <= %s AND x.ends >= %s
                  AND d.is_active = %s
                  AND x.delegator_id IN (
                      SELECT gx.user_id FROM {user_model.groups.through._meta.db_table} gx
                      JOIN {Group._meta.db_table} g ON g.id = gx.group_id
                      WHERE 1 = 1 {groups_of_roles})"""  # noqa: S608 (table names only)
        )
        params += [delegations_on, delegations_on, True]
        params += [c.removeprefix("act_as_") for c in codenames or ()]
    # One user's, or everyone's, has a text of its own; a list of users is written out.
    return prepared.fetch_all(" UNION ALL ".join(sql), params, prepare=user_ids is None)


def _scopes_from(rows: list[tuple[int, str, str, int | None]]) -> dict[int, dict[str, Scope]]:
    groups: dict[int, set[str]] = {}
    everywhere: set[tuple[int, str]] = set()
    per_department: dict[tuple[int, str], set[int]] = {}
    for user_id, kind, name, department_id in rows:
        if kind == "group":
            groups.setdefault(user_id, set()).add(name)
        elif kind == "everywhere":
            everywhere.add((user_id, name))
        elif kind == "department":
            per_department.setdefault((user_id, name), set()).add(department_id)
    scopes: dict[int, dict[str, Scope]] = {}
    for user_id, names in groups.items():
        held = {}
        for role in names:
            codename = role_permission(role)
            scope = Scope(
                everywhere=(user_id, codename) in everywhere,
                department_ids=frozenset(per_department.get((user_id, codename), ())),
            )
            if scope:
                held[role] = scope
        scopes[user_id] = held
    return scopes


def _scopes_of(user_ids: list[int]) -> dict[int, dict[str, Scope]]:
    """Every role each user holds, with its scope: one query whatever the number."""
    return _scopes_from(_held_rows(user_ids=user_ids))


def roles_held(user: AbstractBaseUser) -> list[str]:
    """The roles `user` holds anywhere, active or not (a grant to a deactivated account
    still counts when it is reactivated)."""
    return sorted(role for role, scope in _scopes_of([user.pk]).get(user.pk, {}).items() if scope)


@dataclass(frozen=True)
class Mandate:
    """The right to act for `principal` in `roles` (a delegation active today)."""

    delegation_id: int
    principal: AbstractBaseUser
    scopes: dict[str, Scope]

    def scope(self, role: str) -> Scope:
        return self.scopes.get(role, NOWHERE)


@dataclass(frozen=True)
class Authority:
    """What one user holds, and for whom they act: loaded once a request and passed around."""

    user: AbstractBaseUser
    scopes: dict[str, Scope] = field(default_factory=dict)
    mandates: tuple[Mandate, ...] = ()

    @classmethod
    def of(cls, user: AbstractBaseUser, *, on: date | None = None) -> Authority:
        """One query, and three more only for someone acting for others today."""
        if not user.is_active:
            return cls(user)
        today = on or timezone.localdate()
        rows = _held_rows(user_id=user.pk, delegated_on=today)
        scopes = _scopes_from(rows).get(user.pk, {})
        acting = any(kind == "mandate" for _user, kind, _name, _dept in rows)
        return cls(user, scopes, _mandates(user, today) if acting else ())

    def scope(self, role: str) -> Scope:
        return self.scopes.get(role, NOWHERE)

    def holds(self, role: str, department_id: int) -> bool:
        return self.scope(role).covers(department_id)

    @property
    def roles(self) -> list[str]:
        return [role for role, scope in self.scopes.items() if scope]

    @property
    def administrator(self) -> str | None:
        """Which of the three administrators this user is, if any (never two: the role
        service refuses a second)."""
        return next((role for role in self.roles if role in ADMINISTRATOR_ROLES), None)

    def audit_scope(self) -> Scope:
        """Whose events this user may read in the audit log: the audit administrator's
        reach is the whole log (the other administrators' acts above all), an auditor's
        the departments the role covers."""
        if self.scope(Administrator.AUDIT):
            return EVERYWHERE
        return self.scope(Role.AUDITOR)

    def departments(self) -> QuerySet[Department]:
        """Departments any of the user's roles covers (the administrators' cover none:
        they look after the system, not its texts)."""
        scopes = [
            scope
            for role, scope in self.scopes.items()
            if scope and role not in ADMINISTRATOR_ROLES
        ]
        if any(scope.everywhere for scope in scopes):
            return Department.objects.all()
        ids = set().union(*(scope.department_ids for scope in scopes)) if scopes else set()
        return Department.objects.filter(id__in=ids)


def authorities_holding(roles: list[str], *, on: date | None = None) -> list[Authority]:
    """The full authority (every role, and for whom they act today) of each active user who
    holds one of `roles` somewhere, as `Authority.of` would load it. Three queries whatever
    the number of people, and three more for each of them acting for someone today."""
    codenames = [role_permission(role) for role in roles]
    ids = sorted(uid for uid, held in _scopes_from(_held_rows(codenames=codenames)).items() if held)
    if not ids:
        return []
    today = on or timezone.localdate()
    rows = _held_rows(user_ids=ids, delegated_on=today)
    scopes = _scopes_from(rows)
    acting = {user_id for user_id, kind, _name, _dept in rows if kind == "mandate"}
    users = get_user_model().objects.in_bulk(ids)
    return [
        Authority(
            users[uid],
            scopes.get(uid, {}),
            _mandates(users[uid], today) if uid in acting else (),
        )
        for uid in ids
    ]


def _mandates(user: AbstractBaseUser, today: date) -> tuple[Mandate, ...]:
    delegations = list(
        Delegation.objects.active(today)
        .filter(delegate=user, delegator__is_active=True)
        .select_related("delegator")
    )
    if not delegations:
        return ()
    scopes = _scopes_of([d.delegator_id for d in delegations])
    mandates = []
    for delegation in delegations:
        held = scopes.get(delegation.delegator_id, {})
        mandates.append(
            Mandate(
                delegation.pk,
                delegation.delegator,
                {role: held[role] for role in delegation.roles if role in held},
            )
        )
    return tuple(mandates)


def administers(actor: AbstractBaseUser | None, administrator: str = Administrator.SYSTEM) -> bool:
    """May do `administrator`'s job (an `Administrator` value; accounts, the system
    administrator's, unless named): an active holder of that role, or the command line
    (None: whoever runs manage.py already owns the installation, and bootstraps the three
    administrators from there)."""
    if actor is None:
        return True
    return actor.is_active and bool(Authority.of(actor).scope(administrator))


def holders(roles: list[str], department_id: int) -> dict[str, set[int]]:
    """{role: active users holding it for the department}, one query for any number of
    roles."""
    return stage_holders(roles, department_id).held


@dataclass(frozen=True)
class StageHolders:
    """Who holds a stage's roles for a department, and (if asked) who acts for them."""

    held: dict[str, set[int]]
    # (delegator, delegate, roles) of the delegations in force on the day asked about.
    delegations: tuple[tuple[int, int, frozenset[str]], ...] | None = None

    def delegates_of(self, principal_ids: set[int], roles: set[str]) -> set[int]:
        """`delegates_of` from what was loaded (or asked again if nothing was)."""
        if self.delegations is None:
            return delegates_of(principal_ids, roles)
        return {
            delegate
            for delegator, delegate, delegated in self.delegations
            if delegator in principal_ids and roles & delegated
        }


def stage_holders(
    roles: list[str], department_id: int, *, delegations_on: date | None = None
) -> StageHolders:
    """`holders`, and with `delegations_on` the delegations in force that day of anyone in
    those roles' groups: one statement either way."""
    import json

    codenames = [role_permission(role) for role in roles]
    rows = _held_rows(
        codenames=codenames, department_id=department_id, delegations_on=delegations_on
    )
    members: dict[str, set[int]] = {}
    granted: set[tuple[int, str]] = set()
    delegations = []
    for user_id, kind, name, other in rows:
        if kind == "group":
            members.setdefault(name, set()).add(user_id)
        elif kind == "delegated":
            delegations.append((user_id, other, frozenset(json.loads(name))))
        else:
            granted.add((user_id, name))
    held = {
        role: {uid for uid in members.get(role, ()) if (uid, role_permission(role)) in granted}
        for role in roles
    }
    return StageHolders(held, tuple(delegations) if delegations_on is not None else None)


def delegates_of(principal_ids: set[int], roles: set[str], on: date | None = None) -> set[int]:
    """Users acting today for any of `principal_ids` in any of `roles`."""
    if not principal_ids:
        return set()
    today = on or timezone.localdate()
    found = set()
    for delegate_id, delegated in (
        Delegation.objects.active(today)
        .filter(delegator_id__in=principal_ids, delegate__is_active=True)
        .values_list("delegate_id", "roles")
    ):
        if roles & set(delegated):
            found.add(delegate_id)
    return found
