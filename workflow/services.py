"""The one way anything in the workflow changes.

Every function here is a durable transaction that locks what it changes, checks who may
do it, does it and writes its audit event, so that the change and its event commit
together or not at all. A refused attempt (not visible, not permitted, wrong state, stale
version) is recorded afterwards in a transaction of its own and then raised again.
Views, the API, the admin and the management commands call these; nothing else writes
`state`, decisions, revisions or audit events.
"""

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from notifications import deadlines
from notifications import services as notifications
from notifications.models import StageVisit
from submissions.content import (
    CONTENT_FIELDS,
    SECTION_FIELDS,
    clean_content,
    missing_for_submit,
)
from submissions.importer import ImportFormatError, parse_texts
from submissions.models import (
    Department,
    DepartmentUserObjectPermission,
    ProjectText,
    Revision,
)
from workflow import audit
from workflow.clock import db_now
from workflow.exceptions import (
    InvalidInput,
    NotPermitted,
    NotVisible,
    Refusal,
    StaleVersion,
    TooLarge,
    WrongState,
)
from workflow.models import Decision, Outcome
from workflow.permissions import Authority, can_see, role_holders, role_permission
from workflow.policy import TRANSITION_METHODS, RevisionFacts, may_edit, refusal_for
from workflow.states import (
    ACTIONS_NEEDING_REASON,
    APPROVING_ACTIONS,
    DEPARTMENT_ROLES,
    EDITABLE_STATES,
    STAGE_ROLE,
    Action,
    Role,
)
from workflow.text_rules import unstorable_reason

T = TypeVar("T")

COMMENT_MAX_CHARS = 5_000


def _recording_refusals(action: str, attempt: Callable[[], T], **context: Any) -> T:
    try:
        return attempt()
    except Refusal as refusal:
        _record_refusal(action=action, refusal=refusal, **context)
        raise


@transaction.atomic(durable=True)
def _record_refusal(
    *, action: str, refusal: Refusal, actor: AbstractBaseUser, version: Any = None, comment=""
) -> None:
    if refusal.text_id is None:
        return  # nothing of ours was touched: an unknown id
    text = (
        ProjectText.objects.filter(pk=refusal.text_id)
        .values("state", "revision", "department__code")
        .first()
    )
    if text is None:
        return
    audit.record(
        stream=audit.text_stream(refusal.text_id),
        actor=actor,
        action=action,
        outcome=Outcome.REFUSED,
        text_id=refusal.text_id,
        department=text["department__code"],
        from_state=text["state"],
        revision=text["revision"] or None,
        comment=comment,
        detail={"reason": refusal.code, "message": refusal.message, "version": version},
    )


def _lock_visible_text(authority: Authority, text_id: Any) -> ProjectText:
    """Lock the text's row for this transaction; 404 for unknown and invisible alike."""
    try:
        text = (
            ProjectText.objects.select_for_update(of=("self",))
            .select_related("department", "created_by")
            .get(pk=int(text_id))
        )
    except (ProjectText.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotVisible(_("项目文本不存在。")) from None
    if not can_see(authority, text):
        raise NotVisible(_("项目文本不存在。"), text_id=text.pk)
    return text


def _check_version(text: ProjectText, version: Any) -> None:
    if version != text.version:
        raise StaleVersion(
            _("版本已过期：您看到的是第 %(seen)s 版，当前为第 %(current)s 版，请刷新后重试。")
            % {"seen": version, "current": text.version},
            text_id=text.pk,
            current_version=text.version,
        )


def _require_version(version: Any) -> int:
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInput({"version": [_("必须提供整数 version（您看到的版本号）。")]})
    return version


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


# --- Actions ---------------------------------------------------------------------------------


def perform_action(
    *,
    actor: AbstractBaseUser,
    text_id: Any,
    action: str,
    version: Any,
    comment: Any = "",
    section: Any = "",
) -> ProjectText:
    """Take one workflow action (submit, withdraw, dept_approve, ...) on a text."""
    try:
        action = Action(action)
    except ValueError:
        raise InvalidInput({"action": [_("未知操作：%(a)s") % {"a": action}]}) from None
    version = _require_version(version)
    comment = _clean_comment(comment, required=action in ACTIONS_NEEDING_REASON)
    section = _clean_section(section)
    return _recording_refusals(
        action,
        lambda: _perform_action(actor, text_id, action, version, comment, section),
        actor=actor,
        version=version,
        comment=comment,
    )


def _clean_comment(comment: Any, *, required: bool) -> str:
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        raise InvalidInput({"comment": [_("应为文本。")]})
    comment = comment.strip()
    if required and not comment:
        raise InvalidInput({"comment": [_("退回或不予立项必须填写理由。")]})
    if len(comment) > COMMENT_MAX_CHARS:
        raise InvalidInput({"comment": [_("不能超过 %(n)d 个字符。") % {"n": COMMENT_MAX_CHARS}]})
    reason = unstorable_reason(comment)
    if reason:
        raise InvalidInput({"comment": [reason]})
    return comment


def _clean_section(section: Any) -> str:
    if section in (None, ""):
        return ""
    if section not in SECTION_FIELDS:
        raise InvalidInput(
            {"section": [_("应为以下之一：%(names)s") % {"names": ", ".join(SECTION_FIELDS)}]}
        )
    return section


@transaction.atomic(durable=True)
def _perform_action(
    actor: AbstractBaseUser,
    text_id: Any,
    action: Action,
    version: int,
    comment: str,
    section: str,
) -> ProjectText:
    authority = Authority.of(actor)
    text = _lock_visible_text(authority, text_id)
    facts = RevisionFacts.of(text)
    refusal = refusal_for(authority, text, action, facts)
    if refusal is not None:
        raise refusal
    _check_version(text, version)

    from_state = text.state
    now = timezone.now()
    revision = facts.revision
    if action == Action.SUBMIT:
        missing = missing_for_submit({name: getattr(text, name) for name in CONTENT_FIELDS})
        if missing:
            raise InvalidInput(missing)
        revision = _freeze_revision(text, actor, now)
        text.authors.add(actor)

    getattr(text, TRANSITION_METHODS[action])()
    text.version += 1
    text.updated_at = text.entered_state_at = now
    text.save(update_fields=["state", "version", "revision", "updated_at", "entered_state_at"])

    if action not in (Action.SUBMIT, Action.WITHDRAW):
        Decision.objects.create(
            text=text,
            revision=revision,
            stage=from_state,
            action=action,
            actor=actor,
            comment=comment,
            section=section,
            decided_at=now,
        )
    audit.record_for_text(
        text,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=text.state,
        revision=text.revision,
        comment=comment,
        detail={"section": section} if section else None,
    )
    deadlines.move(text, now)
    notifications.queue(
        kind=action,
        text=text,
        actor=actor,
        recipient_ids=_told_of(action, text, facts),
        comment=comment,
    )
    return text


def _told_of(action: Action, text: ProjectText, facts: RevisionFacts) -> set[int]:
    """Who learns of an action (DESIGN.md, "Notifications"); the actor is left out later."""
    next_reviewers = {
        Action.SUBMIT: Role.DEPT_REVIEWER,
        Action.DEPT_APPROVE: Role.FINANCE_REVIEWER,
        Action.FINANCE_APPROVE: Role.APPROVER,
    }
    if action in next_reviewers:
        holders = role_holders(next_reviewers[action], text.department_id)
        return set(holders.values_list("pk", flat=True))
    if action in (Action.RETURN, Action.REJECT, Action.APPROVE):
        acted = {actor_id for actor_id, _done in facts.decisions}
        if facts.revision is not None:
            acted.add(facts.revision.submitted_by_id)
        return {text.created_by_id, *acted}
    return set()


def _freeze_revision(text: ProjectText, actor: AbstractBaseUser, now) -> Revision:
    text.revision += 1
    return Revision.objects.create(
        text=text,
        number=text.revision,
        submitted_by=actor,
        submitted_at=now,
        **{name: getattr(text, name) for name in CONTENT_FIELDS},
    )


# --- Drafting --------------------------------------------------------------------------------


def _drafting_department(authority: Authority, department_code: Any) -> Department:
    if department_code in (None, ""):
        # A drafter of exactly one department need not name it.
        scope = authority.scope(Role.DRAFTER)
        if not scope.everywhere and len(scope.department_ids) == 1:
            return Department.objects.get(pk=next(iter(scope.department_ids)))
        raise InvalidInput({"department": [_("必须填写部门代码。")]})
    if not isinstance(department_code, str) or unstorable_reason(department_code):
        raise InvalidInput({"department": [_("应为部门代码，如 org。")]})
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        raise InvalidInput({"department": [_("未知部门：%(c)s") % {"c": department_code}]})
    if not authority.holds(Role.DRAFTER, department.pk):
        raise NotPermitted(_("您不是该部门的编制人。"))
    return department


def _create(
    actor: AbstractBaseUser, department: Department, fields: dict[str, Any], **detail: Any
) -> ProjectText:
    text = ProjectText.objects.create(department=department, created_by=actor, **fields)
    text.authors.add(actor)
    audit.record_for_text(
        text,
        actor=actor,
        action="create",
        to_state=text.state,
        changes={name: [None, _jsonable(value)] for name, value in fields.items()},
        detail=detail or None,
    )
    return text


def create_text(
    *, actor: AbstractBaseUser, data: dict[str, Any], department_code: Any = None
) -> ProjectText:
    """Create a draft in a department the actor drafts for."""
    fields = clean_content(data, partial=False)
    with transaction.atomic(durable=True):
        authority = Authority.of(actor)
        department = _drafting_department(authority, department_code)
        return _create(actor, department, fields)


def edit_text(
    *, actor: AbstractBaseUser, text_id: Any, version: Any, data: dict[str, Any]
) -> ProjectText:
    """Change sections of a draft or returned text; records each field's before and after."""
    version = _require_version(version)
    fields = clean_content(data, partial=True)
    return _recording_refusals(
        "edit",
        lambda: _edit_text(actor, text_id, version, fields),
        actor=actor,
        version=version,
    )


@transaction.atomic(durable=True)
def _edit_text(
    actor: AbstractBaseUser, text_id: Any, version: int, fields: dict[str, Any]
) -> ProjectText:
    authority = Authority.of(actor)
    text = _lock_visible_text(authority, text_id)
    if text.state not in EDITABLE_STATES:
        raise WrongState(
            _("“%(state)s”状态的文本不能编辑。") % {"state": text.get_state_display()},
            text_id=text.pk,
        )
    if not may_edit(authority, text):
        raise NotPermitted(_("只有本部门的编制人或被授权人可以编辑。"), text_id=text.pk)
    _check_version(text, version)
    changes = {
        name: [_jsonable(getattr(text, name)), _jsonable(value)]
        for name, value in fields.items()
        if getattr(text, name) != value
    }
    if not changes:
        return text
    for name in changes:
        setattr(text, name, fields[name])
    text.version += 1
    text.updated_at = timezone.now()
    text.save(update_fields=[*changes, "version", "updated_at"])
    text.authors.add(actor)
    audit.record_for_text(
        text,
        actor=actor,
        action="edit",
        from_state=text.state,
        to_state=text.state,
        revision=text.revision or None,
        changes=changes,
    )
    return text


def import_texts(*, actor: AbstractBaseUser, filename: str, data: bytes) -> list[ProjectText]:
    """Create a draft for every text in a .txt/.docx file in the sample's format.

    All or nothing: a file with any problem creates no text.
    """
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise TooLarge(
            _("文件过大：最多 %(n)d 字节。") % {"n": settings.IMPORT_MAX_BYTES}, limit=len(data)
        )
    try:
        parsed = parse_texts(data, filename)
    except ImportFormatError as error:
        raise InvalidInput({"file": [str(error)]}) from None
    drafts = []
    for item in parsed:
        values = {name: getattr(item, name) for name in CONTENT_FIELDS}
        try:
            drafts.append((item, clean_content(values, partial=False)))
        except InvalidInput as error:
            field, messages = next(iter(error.errors.items()))
            raise InvalidInput(
                {
                    "file": [
                        _("第%(line)d行起的文本：%(field)s %(msg)s")
                        % {"line": item.first_line, "field": field, "msg": messages[0]}
                    ]
                }
            ) from None

    with transaction.atomic(durable=True):
        authority = Authority.of(actor)
        names = {item.department_name for item, _fields in drafts}
        departments = {d.name: d for d in Department.objects.filter(name__in=names)}
        for item, _fields in drafts:
            department = departments.get(item.department_name)
            if department is None:
                raise InvalidInput(
                    {
                        "file": [
                            _("第%(line)d行：未知部门“%(name)s”。")
                            % {"line": item.first_line, "name": item.department_name}
                        ]
                    }
                )
            if not authority.holds(Role.DRAFTER, department.pk):
                raise InvalidInput(
                    {
                        "file": [
                            _("第%(line)d行：您不是“%(name)s”的编制人。")
                            % {"line": item.first_line, "name": item.department_name}
                        ]
                    }
                )
        return [
            _create(actor, departments[item.department_name], fields, source=filename)
            for item, fields in drafts
        ]


# --- Roles -----------------------------------------------------------------------------------


def _check_may_grant(
    action: str, actor: AbstractBaseUser | None, user: AbstractBaseUser, role: Any, department
) -> None:
    """Only administrators change roles; a refused attempt is recorded on the user's stream."""
    # None is the command line: whoever runs manage.py already owns the installation.
    if actor is None or (actor.is_active and actor.is_superuser):
        return
    refusal = NotPermitted(_("只有系统管理员可以授予或收回角色。"))
    with transaction.atomic(durable=True):
        audit.record(
            stream=audit.user_stream(user.pk),
            actor=actor,
            action=action,
            outcome=Outcome.REFUSED,
            department=department.code if department else "",
            detail={
                "user": user.get_username(),
                "role": str(role),
                "reason": refusal.code,
                "message": refusal.message,
            },
        )
    raise refusal


def _role_and_permission(role: Any, department: Department | None) -> tuple[Role, Permission]:
    try:
        role = Role(role)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidInput({"role": [_("未知角色，应为：%(n)s") % {"n": names}]}) from None
    if role in DEPARTMENT_ROLES and department is None:
        raise InvalidInput({"department": [_("此角色必须指定部门。")]})
    permission = Permission.objects.get(
        content_type__app_label="submissions", codename=role_permission(role)
    )
    return role, permission


def _record_grant(
    action: str, actor: AbstractBaseUser | None, user, role: Role, department
) -> None:
    audit.record(
        stream=audit.user_stream(user.pk),
        actor=actor,
        action=action,
        department=department.code if department else "",
        detail={"user": user.get_username(), "role": role.value},
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
    group, _created = Group.objects.get_or_create(name=role.value)
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
    group = Group.objects.filter(name=role.value).first()
    if group is not None and not still_held and user.groups.filter(pk=group.pk).exists():
        user.groups.remove(group)
        changed = True
    if changed:
        _record_grant("revoke_role", actor, user, role, department)
    return changed


# --- Sharing one text ------------------------------------------------------------------------

TEXT_ACCESS = {
    "change": "change_projecttext",  # a co-drafter: may edit and submit this text
    "view": "view_projecttext",  # may read this text
}


def _text_access(access: Any) -> str:
    if access not in TEXT_ACCESS:
        raise InvalidInput({"access": [_("应为 change 或 view。")]})
    return TEXT_ACCESS[access]


def _share(
    action: str, actor: AbstractBaseUser | None, user: AbstractBaseUser, text_id: Any, access: Any
) -> bool:
    codename = _text_access(access)
    authority = Authority.of(actor) if actor is not None else None
    with transaction.atomic(durable=True):
        if authority is None:  # the command line
            text = ProjectText.objects.select_for_update().filter(pk=text_id).first()
            if text is None:
                raise NotVisible(_("项目文本不存在。"))
        else:
            text = _lock_visible_text(authority, text_id)
            if not (actor.is_superuser or authority.holds(Role.DRAFTER, text.department_id)):
                raise NotPermitted(_("只有本部门的编制人可以共享此文本。"), text_id=text.pk)
        held = ProjectText.objects.filter(
            pk=text.pk,
            projecttextuserobjectpermission__user=user,
            projecttextuserobjectpermission__permission__codename=codename,
        ).exists()
        if (action == "grant_text_access") == held:
            return False
        change = assign_perm if action == "grant_text_access" else remove_perm
        change(f"submissions.{codename}", user, text)
        audit.record_for_text(
            text,
            actor=actor,
            action=action,
            from_state=text.state,
            to_state=text.state,
            revision=text.revision or None,
            detail={"user": user.get_username(), "access": access},
        )
        return True


def grant_text_access(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, text_id: Any, access: str
) -> bool:
    """Share one text: `change` makes `user` a co-drafter of it, `view` lets them read it."""
    return _share("grant_text_access", actor, user, text_id, access)


def revoke_text_access(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, text_id: Any, access: str
) -> bool:
    return _share("revoke_text_access", actor, user, text_id, access)


# --- Deadlines -------------------------------------------------------------------------------


def sweep_deadlines(now: datetime | None = None) -> int:
    """Remind a stage's assignees once when a text is due there, and tell the stage's
    supervisors once when it is overdue by ESCALATE_AFTER; each is audited.

    `now` defaults to the database's clock. Returns how many reminders and escalations
    were sent.
    """
    now = now or db_now()
    done = 0
    open_visits = StageVisit.objects.filter(left_at__isnull=True)
    for visit_id in open_visits.filter(reminded_at__isnull=True, due_at__lte=now).values_list(
        "pk", flat=True
    ):
        done += _chase(visit_id, now, "remind")
    for visit_id in open_visits.filter(
        reminded_at__isnull=False, escalated_at__isnull=True, escalate_at__lte=now
    ).values_list("pk", flat=True):
        done += _chase(visit_id, now, "escalate")
    return done


@transaction.atomic(durable=True)
def _chase(visit_id: int, now: datetime, kind: str) -> int:
    visit = (
        StageVisit.objects.select_for_update(of=("self",))
        .select_related("text__department")
        .get(pk=visit_id)
    )
    # Checked again under the lock: another sweep may have done it, or the text moved on.
    if visit.left_at is not None:
        return 0
    if kind == "remind":
        if visit.reminded_at is not None or visit.due_at > now:
            return 0
        visit.reminded_at = now
        recipients = _assignees(visit)
    else:
        if visit.escalated_at is not None or visit.escalate_at > now:
            return 0
        visit.escalated_at = now
        group = settings.STAGE_SUPERVISOR_GROUP.get(visit.stage, "")
        supervisors = get_user_model().objects.filter(groups__name=group, is_active=True)
        recipients = set(supervisors.values_list("pk", flat=True))
    visit.save(update_fields=["reminded_at", "escalated_at"])
    text = visit.text
    audit.record_for_text(
        text,
        actor=None,
        action=kind,
        from_state=visit.stage,
        to_state=visit.stage,
        revision=visit.revision,
        detail={
            "stage": visit.stage,
            "due_at": visit.due_at.isoformat(),
            "recipients": len(recipients),
        },
    )
    notifications.queue(
        kind=kind, text=text, actor=None, recipient_ids=recipients, stage=visit.stage
    )
    return 1


def _assignees(visit: StageVisit) -> set[int]:
    """Who could act on the text at its stage: the stage's role holders less those whom
    separation of duties keeps out."""
    text = visit.text
    facts = RevisionFacts.of(text)
    holders = set(
        role_holders(STAGE_ROLE[visit.stage], text.department_id).values_list("pk", flat=True)
    )
    approved = {actor_id for actor_id, done in facts.decisions if done in APPROVING_ACTIONS}
    return holders - facts.author_ids - approved
