"""Creating, editing and importing drafts."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from submissions.content import CONTENT_FIELDS, clean_content, field_label, inconsistencies
from submissions.importer import ImportFormatError, parse_texts
from submissions.lifecycle import EDITABLE_STATES
from submissions.models import Department, ProjectText
from submissions.text_rules import unstorable_reason
from workflow import audit
from workflow.exceptions import InvalidInput, NotPermitted, TooLarge, WrongState
from workflow.permissions import Authority
from workflow.policy import may_edit
from workflow.services._shared import (
    check_version,
    jsonable,
    lock_visible,
    recording_refusals,
    require_version,
)
from workflow.states import Role


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
        raise NotPermitted("not_a_drafter")
    return department


def _code_taken(code: str) -> dict[str, list[str]]:
    return {
        "project_code": [_("本部门同一预算年度已有项目编码为 %(code)s 的项目。") % {"code": code}]
    }


def _check_whole(values: dict[str, Any], department_id: int, text_id: int | None) -> None:
    """What only the whole text can tell: dates in order, a project code not already used
    by another project of the department that year."""
    errors = inconsistencies(values)
    code = values.get("project_code")
    if (
        code
        and ProjectText.objects.filter(
            department_id=department_id, fiscal_year=values["fiscal_year"], project_code=code
        )
        .exclude(pk=text_id)
        .exists()
    ):
        errors.update(_code_taken(code))
    if errors:
        raise InvalidInput(errors)


def _saving(values: dict[str, Any], write: Callable[[], ProjectText]) -> ProjectText:
    """Run a write whose only constraint left to fail is the project code's: two writers
    who both checked before either saved; the second is told as the check would have."""
    try:
        return write()
    except IntegrityError:
        raise InvalidInput(_code_taken(values.get("project_code") or "")) from None


def _create(
    actor: AbstractBaseUser, department: Department, fields: dict[str, Any], **detail: Any
) -> ProjectText:
    _check_whole(fields, department.pk, None)
    text = ProjectText.objects.create(department=department, created_by=actor, **fields)
    text.authors.add(actor)
    audit.record_for_text(
        text,
        actor=actor,
        action="create",
        to_state=text.state,
        changes={name: [None, jsonable(value)] for name, value in fields.items()},
        detail=detail or None,
    )
    return text


def create_text(
    *, actor: AbstractBaseUser, data: dict[str, Any], department_code: Any = None
) -> ProjectText:
    """Create a draft in a department the actor drafts for."""
    fields = clean_content(data, partial=False)

    @transaction.atomic(durable=True)
    def create() -> ProjectText:
        authority = Authority.of(actor)
        department = _drafting_department(authority, department_code)
        return _create(actor, department, fields)

    return _saving(fields, create)


def edit_text(
    *, actor: AbstractBaseUser, text_id: Any, version: Any, data: dict[str, Any]
) -> ProjectText:
    """Change sections of a draft or returned text; records each field's before and after."""
    version = require_version(version)
    fields = clean_content(data, partial=True)
    return recording_refusals(
        "edit",
        lambda: _saving(fields, lambda: _edit_text(actor, text_id, version, fields)),
        actor=actor,
        text_id=text_id,
        version=version,
    )


@transaction.atomic(durable=True)
def _edit_text(
    actor: AbstractBaseUser, text_id: Any, version: int, fields: dict[str, Any]
) -> ProjectText:
    authority = Authority.of(actor)
    locked = lock_visible(authority, text_id)
    text = locked.text
    if text.state not in EDITABLE_STATES:
        raise WrongState("not_editable", text_id=text.pk, state=text.state)
    if not may_edit(authority, text, locked.facts):
        raise NotPermitted("may_not_edit", text_id=text.pk)
    check_version(text, version)
    changes = {
        name: [jsonable(getattr(text, name)), jsonable(value)]
        for name, value in fields.items()
        if getattr(text, name) != value
    }
    if not changes:
        return text
    merged = {name: getattr(text, name) for name in CONTENT_FIELDS} | fields
    _check_whole(merged, text.department_id, text.pk)
    for name in changes:
        setattr(text, name, fields[name])
    text.version += 1
    text.updated_at = timezone.now()
    text.save(update_fields=[*changes, "version", "updated_at"])
    if actor.pk not in locked.facts.author_ids:
        text.authors.add(actor)
    audit.record_for_text(
        text,
        actor=actor,
        action="edit",
        from_state=text.state,
        to_state=text.state,
        revision=text.revision or None,
        changes=changes,
        head=locked.chain_head,
    )
    return text


def check_import_size(size: int) -> None:
    """Refuse (413) an import file over IMPORT_MAX_BYTES; callers holding an upload ask
    before reading it."""
    if size > settings.IMPORT_MAX_BYTES:
        raise TooLarge(_("文件过大：最多 %(n)d 字节。") % {"n": settings.IMPORT_MAX_BYTES})


def import_texts(*, actor: AbstractBaseUser, filename: str, data: bytes) -> list[ProjectText]:
    """Create a draft for every text in a .txt/.docx file in the sample's format.

    All or nothing: a file with any problem creates no text. The importer applies the
    limits on what a file may hold (``ImportLimits``: inflated size, parts, lines, texts)
    while it reads, so a file over one is refused with TooLarge (413) naming it.
    """
    check_import_size(len(data))
    try:
        parsed = parse_texts(data, filename)
    except ImportFormatError as error:
        raise InvalidInput({"file": [str(error)]}) from None
    drafts = []
    for item in parsed:
        try:
            drafts.append((item, clean_content(item.values(), partial=False)))
        except InvalidInput as error:
            raise _in_text(item.first_line, error) from None

    @transaction.atomic(durable=True)
    def create_all() -> list[ProjectText]:
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
        created = []
        for item, fields in drafts:
            try:
                created.append(
                    _create(actor, departments[item.department_name], fields, source=filename)
                )
            except InvalidInput as error:  # a project code the department already uses
                raise _in_text(item.first_line, error) from None
        return created

    try:
        return create_all()
    except IntegrityError:
        # Another import or edit took one of the file's project codes after it was checked.
        raise InvalidInput(
            {"file": [_("文件中的项目编码刚被本部门同一预算年度的其他项目使用，请检查后重试。")]}
        ) from None


def _in_text(line: int, error: InvalidInput) -> InvalidInput:
    """A text's refusal as a refusal of the file, naming where the text starts."""
    field, messages = next(iter(error.errors.items()))
    label = field_label(field) if field in CONTENT_FIELDS else field
    return InvalidInput(
        {
            "file": [
                _("第%(line)d行起的文本：%(field)s %(msg)s")
                % {"line": line, "field": label, "msg": messages[0]}
            ]
        }
    )
