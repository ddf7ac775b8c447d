"""Workflow documents (DESIGN.md, "Routing as data"): parsing, validation and the spec.

A county's chain is a document, never code. This module turns one (YAML or JSON text, or
an already-parsed mapping) into a `Definition`, or refuses it with `DocumentError` naming
every problem by its field (and line, for YAML). Nothing here touches the database: the
loader (`workflow.services.definitions`) stores what this validates, and the machine
(`workflow.machine`) is derived from what it stores.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from django.utils.translation import gettext as _

from submissions.lifecycle import FIXED_ACTIONS, FIXED_STATES
from submissions.models import Category
from submissions.tables import BY_FIELD, REQUIRABLE
from workflow.exceptions import InvalidInput
from workflow.states import BUILTIN_ROLE_SCOPES, REVIEW_ROLES

CODE = re.compile(r"^[a-z_]+$")
WORKFLOW_CODE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
QUORUM_ALL = "all"
SCOPES = ("department", "global")
MAX_STAGES = 30
MAX_LANES = 10
NAME_MAX = 100
DOCUMENT_MAX_BYTES = 256 * 1024
AMOUNT_LIMIT = Decimal("999999999999.99")


@dataclass(frozen=True)
class RoleSpec:
    code: str
    name: str
    scope: str  # "department": granted per department; "global": every department


@dataclass(frozen=True)
class LaneSpec:
    role: str
    quorum: int | None  # None: `all`, every eligible holder when the stage begins

    def as_document(self) -> dict[str, Any]:
        return {"role": self.role, "quorum": QUORUM_ALL if self.quorum is None else self.quorum}


@dataclass(frozen=True)
class StageSpec:
    code: str
    name: str
    approve_action: str
    lanes: tuple[LaneSpec, ...]
    amount_at_least: Decimal | None = None
    due_days: int | None = None
    supervisor_role: str = ""

    def as_document(self) -> dict[str, Any]:
        stage: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "approve_action": self.approve_action,
            "lanes": [lane.as_document() for lane in self.lanes],
        }
        if self.amount_at_least is not None:
            stage["when"] = {"amount_at_least": f"{self.amount_at_least:.2f}"}
        if self.due_days is not None:
            stage["due_days"] = self.due_days
        if self.supervisor_role:
            stage["supervisor_role"] = self.supervisor_role
        return stage


@dataclass(frozen=True)
class Requirement:
    """A table a text must have before it is submitted (`submit_requires`): for every text,
    or only for those of the listed categories (绩效目标表 for 特定目标类)."""

    table: str
    categories: tuple[str, ...] = ()

    def applies(self, category: str) -> bool:
        return not self.categories or category in self.categories

    def as_document(self) -> dict[str, Any]:
        if not self.categories:
            return {"table": self.table}
        return {"table": self.table, "when": {"category": list(self.categories)}}


@dataclass(frozen=True)
class Definition:
    code: str
    name: str
    stages: tuple[StageSpec, ...]
    roles: tuple[RoleSpec, ...] = field(default=())
    submit_requires: tuple[Requirement, ...] = field(default=())

    def required_tables(self, category: str) -> tuple[str, ...]:
        """The tables a text of this category must have before it is submitted."""
        return tuple(r.table for r in self.submit_requires if r.applies(category))

    def as_document(self) -> dict[str, Any]:
        """The canonical JSON form: what is stored, served and compared. A document with
        no `submit_requires` has none of it, as before the key existed."""
        document: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "roles": [{"code": r.code, "name": r.name, "scope": r.scope} for r in self.roles],
            "stages": [stage.as_document() for stage in self.stages],
        }
        if self.submit_requires:
            document["submit_requires"] = [r.as_document() for r in self.submit_requires]
        return document


class DocumentError(InvalidInput):
    """A document that cannot be a workflow; `errors` maps each field path to its problems."""


def parse(source: str | bytes, *, known_roles: dict[str, str] | None = None) -> Definition:
    """Parse YAML or JSON text and validate it; line numbers name YAML problems."""
    if isinstance(source, bytes):
        if len(source) > DOCUMENT_MAX_BYTES:
            raise DocumentError({"document": [_("文件过大。")]})
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError({"document": [_("应为 UTF-8 编码的 YAML 或 JSON。")]}) from None
    if len(source) > DOCUMENT_MAX_BYTES:
        raise DocumentError({"document": [_("文件过大。")]})
    lines: dict[str, int] = {}
    try:
        data = json.loads(source)
    except ValueError:
        try:
            node = yaml.compose(source, Loader=yaml.SafeLoader)
            data = yaml.safe_load(source)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = _("（第 %(line)d 行）") % {"line": mark.line + 1} if mark else ""
            raise DocumentError(
                {"document": [_("不是有效的 YAML 或 JSON%(where)s。") % {"where": where}]}
            ) from None
        if node is not None:
            _note_lines(node, "", lines)
    return validate(data, lines=lines, known_roles=known_roles)


def _note_lines(
    node: yaml.Node, path: str, lines: dict[str, int], seen: set[int] | None = None
) -> None:
    """Where each field stands. A node reached again through an alias is not walked again:
    nested aliases would otherwise make a small document exponentially long to walk."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            _note_lines(value, f"{path}.{name}" if path else name, lines, seen)
            lines.setdefault(f"{path}.{name}" if path else name, key.start_mark.line + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _note_lines(item, f"{path}[{index}]", lines, seen)


class _Problems:
    def __init__(self, lines: dict[str, int]) -> None:
        self.lines = lines
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        line = self.lines.get(path)
        if line is not None:
            message = _("%(message)s（第 %(line)d 行）") % {"message": message, "line": line}
        self.errors.setdefault(path or "document", []).append(message)


def validate(
    data: Any,
    *,
    lines: dict[str, int] | None = None,
    known_roles: dict[str, str] | None = None,
) -> Definition:
    """Validate a parsed document. `known_roles` maps roles declared by other workflows
    (code → scope) that lanes may use besides the built-in review roles."""
    problems = _Problems(lines or {})
    if not isinstance(data, dict):
        raise DocumentError({"document": [_("应为一个映射（code、name、roles、stages）。")]})
    _unknown_keys(problems, "", data, {"code", "name", "roles", "stages", "submit_requires"})
    code = data.get("code")
    if not isinstance(code, str) or not WORKFLOW_CODE.match(code):
        problems.add("code", _("应为小写字母开头的代码，如 budget-text。"))
    name = _name(problems, "name", data.get("name"))
    roles = _roles(problems, data.get("roles", []))
    usable = {role: BUILTIN_ROLE_SCOPES[role] for role in REVIEW_ROLES}
    usable.update(known_roles or {})
    usable.update({role.code: role.scope for role in roles})
    stages = _stages(problems, data.get("stages"), usable)
    requires = _requirements(problems, data.get("submit_requires"))
    if problems.errors:
        raise DocumentError(problems.errors)
    return Definition(
        code=code, name=name, stages=tuple(stages), roles=tuple(roles), submit_requires=requires
    )


def _requirements(problems: _Problems, value: Any) -> tuple[Requirement, ...]:
    """`submit_requires: [{table: indicators, when: {category: [specific_purpose]}}, ...]`"""
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add("submit_requires", _("应为列表。"))
        return ()
    tables = ", ".join(f"{name}（{BY_FIELD[name].label}）" for name in REQUIRABLE)
    categories = ", ".join(f"{code}（{label}）" for code, label in Category.choices)
    found: list[Requirement] = []
    for index, item in enumerate(value):
        path = f"submit_requires[{index}]"
        if not isinstance(item, dict):
            problems.add(path, _("应为映射（table、when）。"))
            continue
        _unknown_keys(problems, path, item, {"table", "when"})
        table = item.get("table")
        if table not in REQUIRABLE:
            problems.add(f"{path}.table", _("应为以下之一：%(names)s。") % {"names": tables})
            continue
        when = item.get("when")
        if when is None:
            found.append(Requirement(table))
            continue
        listed = (
            when.get("category") if isinstance(when, dict) and set(when) == {"category"} else None
        )
        if isinstance(listed, str):
            listed = [listed]
        valid = {code for code, _label in Category.choices}
        if not isinstance(listed, list) or not listed or not all(c in valid for c in listed):
            problems.add(
                f"{path}.when",
                _("只支持 {category: [类别代码]}；类别：%(names)s。") % {"names": categories},
            )
            continue
        found.append(Requirement(table, tuple(dict.fromkeys(listed))))
    return tuple(found)


def _unknown_keys(problems: _Problems, path: str, data: dict, allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            problems.add(
                where,
                _("未知字段“%(key)s”；可用字段：%(allowed)s。")
                % {"key": key, "allowed": ", ".join(sorted(allowed))},
            )


def _name(problems: _Problems, path: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.add(path, _("必须填写名称。"))
        return ""
    if len(value) > NAME_MAX:
        problems.add(path, _("不能超过 %(n)d 个字符。") % {"n": NAME_MAX})
    return value.strip()


def _roles(problems: _Problems, value: Any) -> list[RoleSpec]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add("roles", _("应为列表。"))
        return []
    roles: list[RoleSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        path = f"roles[{index}]"
        if not isinstance(item, dict):
            problems.add(path, _("应为映射（code、name、scope）。"))
            continue
        _unknown_keys(problems, path, item, {"code", "name", "scope"})
        code = item.get("code")
        if not isinstance(code, str) or not CODE.match(code):
            problems.add(f"{path}.code", _("代码只能由小写字母和下划线组成。"))
            continue
        if code in BUILTIN_ROLE_SCOPES:
            problems.add(f"{path}.code", _("“%(code)s”是内置角色，无需声明。") % {"code": code})
            continue
        if code in seen:
            problems.add(f"{path}.code", _("角色代码“%(code)s”重复。") % {"code": code})
            continue
        seen.add(code)
        scope = item.get("scope")
        if scope not in SCOPES:
            problems.add(f"{path}.scope", _("应为 department 或 global。"))
            continue
        roles.append(RoleSpec(code, _name(problems, f"{path}.name", item.get("name")), scope))
    return roles


def _stages(problems: _Problems, value: Any, usable: dict[str, str]) -> list[StageSpec]:
    if not isinstance(value, list) or not value:
        problems.add("stages", _("至少需要一个审核阶段。"))
        return []
    if len(value) > MAX_STAGES:
        problems.add("stages", _("最多 %(n)d 个审核阶段。") % {"n": MAX_STAGES})
        return []
    stages: list[StageSpec] = []
    codes: set[str] = set()
    actions: set[str] = set()
    for index, item in enumerate(value):
        path = f"stages[{index}]"
        if not isinstance(item, dict):
            problems.add(path, _("应为映射。"))
            continue
        _unknown_keys(
            problems,
            path,
            item,
            {"code", "name", "approve_action", "lanes", "when", "due_days", "supervisor_role"},
        )
        code = _stage_code(problems, f"{path}.code", item.get("code"), codes, FIXED_STATES)
        action = _stage_code(
            problems, f"{path}.approve_action", item.get("approve_action"), actions, FIXED_ACTIONS
        )
        name = _name(problems, f"{path}.name", item.get("name"))
        lanes = _lanes(problems, f"{path}.lanes", item.get("lanes"), usable)
        amount = _when(problems, f"{path}.when", item.get("when"))
        due_days = item.get("due_days")
        if due_days is not None and (
            isinstance(due_days, bool) or not isinstance(due_days, int) or not 1 <= due_days <= 365
        ):
            problems.add(f"{path}.due_days", _("应为 1 到 365 之间的整数（工作日）。"))
        supervisor = item.get("supervisor_role", "")
        if not isinstance(supervisor, str) or (supervisor and not CODE.match(supervisor)):
            problems.add(f"{path}.supervisor_role", _("代码只能由小写字母和下划线组成。"))
        if code and action and lanes:
            stages.append(
                StageSpec(code, name, action, tuple(lanes), amount, due_days, supervisor or "")
            )
    if stages and all(stage.amount_at_least is not None for stage in stages):
        problems.add("stages", _("至少需要一个无条件（不带 when）的审核阶段。"))
    overlap = codes & actions
    if overlap:
        problems.add(
            "stages",
            _("阶段代码不能与审批操作同名：%(codes)s。") % {"codes": ", ".join(sorted(overlap))},
        )
    return stages


def _stage_code(
    problems: _Problems, path: str, value: Any, seen: set[str], reserved: frozenset[str]
) -> str:
    if not isinstance(value, str) or not CODE.match(value) or len(value) > 32:
        problems.add(path, _("代码只能由小写字母和下划线组成（至多 32 个字符）。"))
        return ""
    if value in reserved:
        problems.add(path, _("“%(code)s”是固定的状态或操作，不能用作阶段。") % {"code": value})
        return ""
    if value in seen:
        problems.add(path, _("代码“%(code)s”重复。") % {"code": value})
        return ""
    seen.add(value)
    return value


def _lanes(problems: _Problems, path: str, value: Any, usable: dict[str, str]) -> list[LaneSpec]:
    if not isinstance(value, list) or not value:
        problems.add(path, _("至少需要一条审核通道（lanes）。"))
        return []
    if len(value) > MAX_LANES:
        problems.add(path, _("最多 %(n)d 条审核通道。") % {"n": MAX_LANES})
        return []
    lanes: list[LaneSpec] = []
    roles: set[str] = set()
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(item, dict):
            problems.add(where, _("应为映射（role、quorum）。"))
            continue
        _unknown_keys(problems, where, item, {"role", "quorum"})
        role = item.get("role")
        if not isinstance(role, str) or role not in usable:
            problems.add(
                f"{where}.role",
                _("未知角色“%(role)s”；可用：%(roles)s。")
                % {"role": role, "roles": ", ".join(sorted(usable))},
            )
            continue
        if role in roles:
            problems.add(f"{where}.role", _("同一阶段内角色“%(role)s”重复。") % {"role": role})
            continue
        roles.add(role)
        quorum = item.get("quorum", 1)
        if quorum == QUORUM_ALL:
            lanes.append(LaneSpec(role, None))
        elif isinstance(quorum, bool) or not isinstance(quorum, int) or not 1 <= quorum <= 50:
            problems.add(f"{where}.quorum", _("应为 1 到 50 之间的整数，或 all。"))
        else:
            lanes.append(LaneSpec(role, quorum))
    return lanes if len(lanes) == len(value) else []


def _when(problems: _Problems, path: str, value: Any) -> Decimal | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"amount_at_least"}:
        problems.add(path, _("只支持 {amount_at_least: 金额}。"))
        return None
    raw = value["amount_at_least"]
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        problems.add(f"{path}.amount_at_least", _('应为金额，如 "1500000.00"。'))
        return None
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or amount < 0
        or amount > AMOUNT_LIMIT
        or amount != amount.quantize(Decimal("0.01"))
    ):
        problems.add(f"{path}.amount_at_least", _("应为不小于 0、至多两位小数的金额。"))
        return None
    return amount.quantize(Decimal("0.01"))
