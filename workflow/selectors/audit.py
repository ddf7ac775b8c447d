"""Reading the audit log, for auditors and for a text's history."""

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from submissions.models import Department, ProjectText
from submissions.sections import CONTENT_FIELDS, READING_ORDER
from submissions.text_rules import unstorable_reason, whole_number
from workflow.exceptions import InvalidInput, NotPermitted
from workflow.models import AuditCheckpoint, AuditEvent, AuditVerification, Outcome
from workflow.permissions import Authority


def text_history(text: ProjectText) -> QuerySet[AuditEvent]:
    """Every event of one text, refused attempts included, oldest first."""
    return AuditEvent.objects.filter(text=text).order_by("at", "id")


# Outside these years a time cannot be converted to UTC and back on every database.
SEARCHABLE_YEARS = range(1900, 9000)


def _moment(name: str, value: str, *, end_of_day: bool) -> datetime:
    """A date means the whole day: from its start (`since`) or to its end (`until`)."""
    error = InvalidInput({name: [_("应为日期或 ISO 8601 时间，如 2025-03-01。")]})
    try:
        # parse_datetime also accepts a bare date (as midnight): try the date first.
        day = parse_date(value)
        moment = None if day else parse_datetime(value)
    except ValueError:
        raise error from None
    if day is not None:
        moment = datetime.combine(day, time.max if end_of_day else time.min)
    if moment is None or moment.year not in SEARCHABLE_YEARS:
        raise error
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    # In UTC: PostgreSQL refuses offsets beyond ±15:59, which Python (and ISO 8601) allow.
    return moment.astimezone(UTC)


def _text_id(value: Any) -> int:
    text_id = whole_number(value)
    if text_id is None:
        raise InvalidInput({"text": [_("应为项目文本的编号（正整数）。")]})
    return text_id


def audit_events(authority: Authority, params: dict[str, Any]) -> QuerySet[AuditEvent]:
    """Events an auditor may read, filtered by actor, action, text, department and time."""
    scope = authority.audit_scope()
    if not scope:
        raise NotPermitted("auditors_only")
    events = AuditEvent.objects.all()
    if not scope.everywhere:
        codes = Department.objects.filter(id__in=scope.department_ids).values("code")
        events = events.filter(department__in=codes)
    if params.get("actor"):
        events = events.filter(actor_name=params["actor"])
    if params.get("action"):
        events = events.filter(action=params["action"])
    if params.get("outcome"):
        events = events.filter(outcome=params["outcome"])
    if params.get("department"):
        events = events.filter(department=params["department"])
    if params.get("text"):
        events = events.filter(text_id=_text_id(params["text"]))
    if params.get("since"):
        events = events.filter(at__gte=_moment("since", params["since"], end_of_day=False))
    if params.get("until"):
        events = events.filter(at__lte=_moment("until", params["until"], end_of_day=True))
    return events.order_by("id")


def latest_verification() -> AuditVerification | None:
    """The newest verification of the log, full or incremental (they run in the background)."""
    return AuditVerification.objects.order_by("-at", "-id").defer("state").first()


def latest_checkpoint() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-seq").only("seq", "at", "event_count").first()


# --- The auditor's pages: search, newest first, and every event put into people's words ------

# The page's filters (the API's are `audit_events`' and stay as they are).
PAGE_FILTERS = ("title", "actor", "action", "outcome", "department", "text", "since", "until")
# A search word longer than any title or name is a mistake, not a search.
AUDIT_SEARCH_MAX_CHARS = 200
# Section text longer than this (or on several lines) is shown as a diff, collapsed.
LONG_VALUE_CHARS = 80


def action_choices() -> list[tuple[str, str]]:
    """Every action the log may hold, with its name: the closed vocabulary and each loaded
    workflow's stage approvals, in that order."""
    from workflow.machine import catalog
    from workflow.vocabulary import EVENTS, event_label

    codes = list(EVENTS) + sorted(a for a in catalog().approve_actions if a not in EVENTS)
    return [(code, event_label(code)) for code in codes]


def _search_word(name: str, value: str) -> str:
    reason = unstorable_reason(value)
    if reason is None and len(value) > AUDIT_SEARCH_MAX_CHARS:
        reason = _("搜索词不能超过 %(n)d 个字符。") % {"n": AUDIT_SEARCH_MAX_CHARS}
    if reason:
        raise InvalidInput({name: [reason]})
    return value


def search_events(authority: Authority, params: Any) -> QuerySet[AuditEvent]:
    """The auditor's search, newest first: words of the text's title, a user by username or
    name, an action, an outcome, a department, a text and a date range. Bad input raises
    InvalidInput naming each field."""
    from workflow.vocabulary import is_event

    scope = authority.audit_scope()
    if not scope:
        raise NotPermitted("auditors_only")
    value = {name: str(params.get(name) or "").strip() for name in PAGE_FILTERS}
    errors: dict[str, list[str]] = {}
    events = AuditEvent.objects.all()
    if not scope.everywhere:
        codes = Department.objects.filter(id__in=scope.department_ids).values("code")
        events = events.filter(department__in=codes)
    checks = []
    for name in ("title", "actor"):
        try:
            value[name] = _search_word(name, value[name])
        except InvalidInput as error:
            errors.update(error.errors)
    if value["action"] and not is_event(value["action"]):
        errors["action"] = [_("没有这个操作。")]
    if value["outcome"] and value["outcome"] not in Outcome.values:
        errors["outcome"] = [_("结果应为“成功”或“被拒绝”。")]
    if value["department"] and not Department.objects.filter(code=value["department"]).exists():
        errors["department"] = [_("没有这个部门。")]
    moments = {}
    for name, end_of_day in (("since", False), ("until", True)):
        if value[name]:
            try:
                moments[name] = _moment(name, value[name], end_of_day=end_of_day)
            except InvalidInput as error:
                errors.update(error.errors)
    if len(moments) == 2 and moments["since"] > moments["until"]:
        errors["until"] = [_("截止日期不能早于起始日期。")]
    if value["text"]:
        try:
            checks.append(Q(text_id=_text_id(value["text"])))
        except InvalidInput as error:
            errors.update(error.errors)
    if errors:
        raise InvalidInput(errors)
    for word in value["title"].split():
        checks.append(Q(text__title__icontains=word))
    if value["actor"]:
        checks.append(_by_person(value["actor"]))
    if value["action"]:
        checks.append(Q(action=value["action"]))
    if value["outcome"]:
        checks.append(Q(outcome=value["outcome"]))
    if value["department"]:
        checks.append(Q(department=value["department"]))
    if "since" in moments:
        checks.append(Q(at__gte=moments["since"]))
    if "until" in moments:
        checks.append(Q(at__lte=moments["until"]))
    return events.filter(*checks).order_by("-at", "-id")


def _by_person(words: str) -> Q:
    """Events of the users whose username or name holds `words` (张三 matches 张 + 三 as
    family and given name, and "San Zhang" as given and family name)."""
    people = get_user_model().objects.annotate(
        family_first=Concat("last_name", "first_name"),
        given_first=Concat("first_name", Value(" "), "last_name"),
    )
    found = people.filter(
        Q(username__icontains=words)
        | Q(family_first__icontains=words)
        | Q(given_first__icontains=words)
    ).values("pk")
    return Q(actor_id__in=found) | Q(actor_name__icontains=words)


def text_history_newest_first(text: ProjectText) -> QuerySet[AuditEvent]:
    """The history page's order; `text_history` (the API's) stays oldest first."""
    return AuditEvent.objects.filter(text=text).order_by("-at", "-id")


@dataclass(frozen=True)
class Person:
    username: str
    name: str = ""

    def __str__(self) -> str:
        if self.name and self.name != self.username:
            return f"{self.name}（{self.username}）" if _zh() else f"{self.name} ({self.username})"
        return self.username


@dataclass
class FieldChange:
    """One changed field of an event, as people read it."""

    field: str
    label: str
    before: str
    after: str
    long: bool = False
    # Filled in where it was empty (a new text): a long value is shown as it is, not as a diff.
    created: bool = False
    # For long text: [(tag, text)] with tag "equal", "insert" or "delete", and ("skip", n)
    # where n unchanged characters are left out.
    ops: list[tuple[str, Any]] = dataclass_field(default_factory=list)
    inserted: int = 0
    deleted: int = 0
    # For a table (资金明细, 绩效指标, …): each row added, removed or changed, in words.
    rows: list[str] = dataclass_field(default_factory=list)


@dataclass
class EventView:
    """An event in people's words: names, not codes; the codes stay on `event`."""

    event: AuditEvent
    at: datetime
    actor: Person | None
    on_behalf_of: Person | None
    action: str
    outcome: str
    refused: bool
    text_title: str
    department: str
    from_state: str
    to_state: str
    note: str
    changes: list[FieldChange]

    def __getitem__(self, name: str) -> Any:
        """row["event"] as well as row.event: templates and tests read either."""
        return getattr(self, name)


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


def _field_label(name: str) -> str:
    if name in CONTENT_FIELDS:
        return str(ProjectText._meta.get_field(name).verbose_name)
    try:
        return str(get_user_model()._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _worded_value(name: str, value: Any) -> str:
    from submissions.tables import BY_FIELD

    if value is None or value == "" or value == []:
        return _("（空）")
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if name in BY_FIELD and _are_rows(value):
        return ngettext("%(n)d 行", "%(n)d 行", len(value)) % {"n": len(value)}
    choices = _choices_of(name)
    if isinstance(value, str) and value in choices:
        return str(choices[value])
    if name == "amount":
        try:
            return _("%(amount)s元") % {"amount": f"{Decimal(str(value)):,.2f}"}
        except (InvalidOperation, ValueError):
            return str(value)
    if isinstance(value, (dict, list)):
        return _("、").join(str(v) for v in value) if isinstance(value, list) else str(value)
    return str(value)


def _is_table(name: str) -> bool:
    from submissions.sections import TABLE_FIELDS

    return name in TABLE_FIELDS


def _choices_of(name: str) -> dict[str, Any]:
    if name not in CONTENT_FIELDS:
        return {}
    return dict(ProjectText._meta.get_field(name).choices or ())


def _are_rows(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(row, dict) for row in value)


def _cell_in_words(column: Any, value: Any) -> str:
    from submissions.tables import display_cell

    try:
        return display_cell(column, value) or _("（空）")
    except (ArithmeticError, ValueError, TypeError):
        return str(value)


def row_changes(name: str, before: Any, after: Any) -> list[str]:
    """A table's change row by row, in words and with the table's own labels: 新增第 3 行
    （培训费）：…, 删除第 2 行（…）, 第 1 行（…）：金额（元） 10,000.00 → 12,000.00."""
    from submissions.diff import table_diff
    from submissions.tables import BY_FIELD

    table = BY_FIELD[name]
    ops = table_diff(table, before if _are_rows(before) else [], after if _are_rows(after) else [])
    found = []
    old = new = 0
    for op in ops:
        if op["op"] == "insert":
            row = op["after"]
            cells = _("，").join(
                f"{column.label} {_cell_in_words(column, row.get(column.key))}"
                for column in table.columns
                if row.get(column.key) not in (None, "")
            )
            found.append(
                _("新增%(row)s：%(cells)s") % {"row": table.row_name(new, row), "cells": cells}
            )
        elif op["op"] == "delete":
            found.append(_("删除%(row)s") % {"row": table.row_name(old, op["before"])})
        elif op["op"] == "replace":
            cells = _("；").join(
                _("%(column)s %(before)s → %(after)s")
                % {
                    "column": table.column(key).label,
                    "before": _cell_in_words(table.column(key), op["before"].get(key)),
                    "after": _cell_in_words(table.column(key), op["after"].get(key)),
                }
                for key in op["changed"]
            )
            found.append(
                _("%(row)s：%(cells)s") % {"row": table.row_name(new, op["after"]), "cells": cells}
            )
        old += op["before"] is not None
        new += op["after"] is not None
    return found


def _is_long(value: Any) -> bool:
    return isinstance(value, str) and (len(value) > LONG_VALUE_CHARS or "\n" in value)


# What one page may spend on character diffs (submissions.diff, bounded per call): past it,
# the rest of the page's long fields show the one stretch between their shared start and end.
DIFF_CHARS_PER_PAGE = 200_000
# Unchanged text around a change is cut to this much either side.
DIFF_CONTEXT_CHARS = 60
# A long section filled in at once shows its beginning (the text's page shows all of it).
CREATED_SHOWN_CHARS = 2_000


class DiffBudget:
    def __init__(self, chars: int = DIFF_CHARS_PER_PAGE) -> None:
        self.left = chars

    def spend(self, chars: int) -> bool:
        if chars > self.left:
            self.left = 0
            return False
        self.left -= chars
        return True


def _one_stretch(before: str, after: str) -> list[tuple[str, str]]:
    """A diff in linear time: the shared start, what lies between, the shared end."""
    limit = min(len(before), len(after))
    start = 0
    while start < limit and before[start] == after[start]:
        start += 1
    end = 0
    while end < limit - start and before[-1 - end] == after[-1 - end]:
        end += 1
    ops = [
        ("equal", before[:start]),
        ("delete", before[start : len(before) - end]),
        ("insert", after[start : len(after) - end]),
        ("equal", before[len(before) - end :]),
    ]
    return [(tag, piece) for tag, piece in ops if piece]


def _trimmed(ops: list[tuple[str, str]]) -> list[tuple[str, Any]]:
    """Long unchanged runs cut to their ends near a change: ("skip", how many characters)."""
    found: list[tuple[str, Any]] = []
    keep = DIFF_CONTEXT_CHARS
    for index, (tag, piece) in enumerate(ops):
        if tag != "equal" or len(piece) <= 2 * keep + 10:
            found.append((tag, piece))
            continue
        head = piece[:keep] if index > 0 else ""
        tail = piece[-keep:] if index < len(ops) - 1 else ""
        if head:
            found.append(("equal", head))
        found.append(("skip", len(piece) - len(head) - len(tail)))
        if tail:
            found.append(("equal", tail))
    return found


def field_changes(
    changes: dict[str, Any], *, with_diff: bool = True, budget: DiffBudget | None = None
) -> list[FieldChange]:
    """Each changed field with its label, before and after; long text with its diff."""
    from submissions.diff import char_ops

    budget = budget or DiffBudget()
    found = []
    from submissions.layout import ORDER

    # The sections as they are read, then the project data, the tables and the targets.
    order: dict[str, int] = {}
    for name in (*READING_ORDER, *ORDER):
        order.setdefault(name, len(order))
    for name, pair in sorted((changes or {}).items(), key=lambda kv: order.get(kv[0], 99)):
        before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        change = FieldChange(
            field=name,
            label=_field_label(name),
            before=_worded_value(name, before),
            after=_worded_value(name, after),
            long=_is_long(before) or _is_long(after),
            created=before in (None, ""),
        )
        if _is_table(name) and (_are_rows(before) or _are_rows(after)):
            change.rows = row_changes(name, before, after)
        elif change.long and with_diff and change.created:
            value = str(after or "")
            change.inserted = len(value)
            change.ops = [("equal", value[:CREATED_SHOWN_CHARS])]
            if len(value) > CREATED_SHOWN_CHARS:
                change.ops.append(("skip", len(value) - CREATED_SHOWN_CHARS))
        elif change.long and with_diff:
            old, new = str(before or ""), str(after or "")
            if budget.spend(len(old) + len(new)):
                ops = [(tag, piece) for tag, piece in char_ops(old, new)]
            else:
                ops = _one_stretch(old, new)
            change.inserted = sum(len(p) for t, p in ops if t == "insert")
            change.deleted = sum(len(p) for t, p in ops if t == "delete")
            change.ops = _trimmed(ops)
        found.append(change)
    return found


def _usernames_in(event: AuditEvent) -> set[str]:
    detail = event.detail or {}
    names = {event.actor_name} if event.actor_name else set()
    for key in ("on_behalf_of", "user", "from", "to"):
        if isinstance(detail.get(key), str):
            names.add(detail[key])
    return names


def _note(detail: dict[str, Any], people: dict[str, Person], departments: dict[str, str]) -> str:
    """What else the event says: a refusal's reason, whose role or access changed, a
    delegation, how many refusals a summary counts, who tried to sign in from where."""
    from workflow.vocabulary import (
        TOKEN_REVOCATION_REASONS,
        WAYS_IN,
        event_note,
        role_label,
        state_label,
    )

    note = event_note(detail)
    if note:
        return note

    def person(username: Any) -> str:
        return str(people.get(username) or username)

    if "count" in detail:
        return _("共 %(n)s 次，%(first)s 至 %(last)s") % {
            "n": detail["count"],
            "first": detail.get("first_at", ""),
            "last": detail.get("last_at", ""),
        }
    parts = []
    if detail.get("section") in CONTENT_FIELDS:
        parts.append(_("针对：%(section)s") % {"section": _field_label(detail["section"])})
    if detail.get("skipped"):
        skipped = _("、").join(state_label(str(s)) for s in detail["skipped"])
        parts.append(_("跳过：%(stages)s") % {"stages": skipped})
    if detail.get("user"):
        parts.append(_("用户：%(who)s") % {"who": person(detail["user"])})
    if detail.get("role"):
        parts.append(_("角色：%(role)s") % {"role": role_label(str(detail["role"]))})
    if detail.get("access"):
        parts.append(_("权限：%(access)s") % {"access": detail["access"]})
    if detail.get("from") and detail.get("to"):
        parts.append(
            _("%(who)s 委托 %(to)s，%(starts)s 至 %(ends)s")
            % {
                "who": person(detail["from"]),
                "to": person(detail["to"]),
                "starts": detail.get("starts", ""),
                "ends": detail.get("ends", ""),
            }
        )
    if isinstance(detail.get("roles"), list):
        roles = _("、").join(role_label(str(r)) for r in detail["roles"])
        parts.append(_("角色：%(role)s") % {"role": roles})
    if detail.get("stage") and not detail.get("user"):
        parts.append(_("阶段：%(stage)s") % {"stage": state_label(str(detail["stage"]))})
    if detail.get("username"):
        parts.append(_("用户名：%(name)s") % {"name": detail["username"]})
    if detail.get("address"):
        parts.append(_("地址：%(address)s") % {"address": detail["address"]})
    if detail.get("way") in WAYS_IN:
        parts.append(_("途径：%(way)s") % {"way": WAYS_IN[detail["way"]]})
    if detail.get("prefix"):
        parts.append(_("令牌：%(prefix)s…") % {"prefix": detail["prefix"]})
    if detail.get("reason") in TOKEN_REVOCATION_REASONS:
        reason = TOKEN_REVOCATION_REASONS[detail["reason"]]
        parts.append(_("原因：%(reason)s") % {"reason": reason})
    return _("；").join(parts)


def describe_events(events: Iterable[AuditEvent], *, with_diff: bool = False) -> list[EventView]:
    """The events in people's words, with a fixed number of queries however many there are:
    people by name, departments by name, texts by title, stages in their version's words."""
    from workflow.models import Route
    from workflow.vocabulary import event_label, state_label

    events = list(events)
    usernames = set().union(*(_usernames_in(e) for e in events)) if events else set()
    actor_ids = {e.actor_id for e in events if e.actor_id}
    people: dict[str, Person] = {}
    by_id: dict[int, Person] = {}
    if usernames or actor_ids:
        users = (
            get_user_model()
            .objects.filter(Q(pk__in=actor_ids) | Q(username__in=usernames))
            .only("pk", "username", "first_name", "last_name")
        )
        for user in users:
            if _zh():
                name = f"{user.last_name}{user.first_name}".strip()
            else:
                name = user.get_full_name().strip()
            found = Person(user.get_username(), name)
            people[found.username] = by_id[user.pk] = found
    codes = {e.department for e in events if e.department}
    departments = (
        dict(Department.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    )
    text_ids = {e.text_id for e in events if e.text_id}
    titles: dict[int, str] = {}
    versions: dict[int, int] = {}
    if text_ids:
        titles = dict(ProjectText.objects.filter(pk__in=text_ids).values_list("pk", "title"))
        versions = dict(
            Route.objects.filter(text_id__in=text_ids).values_list("text_id", "version_id")
        )
    views = []
    budget = DiffBudget()
    for event in events:
        detail = event.detail or {}
        version = versions.get(event.text_id) if event.text_id else None
        actor = by_id.get(event.actor_id) if event.actor_id else None
        if actor is None and event.actor_name:
            actor = people.get(event.actor_name) or Person(event.actor_name)
        principal = detail.get("on_behalf_of")
        views.append(
            EventView(
                event=event,
                at=timezone.localtime(event.at),
                actor=actor,
                on_behalf_of=(people.get(principal) or Person(principal)) if principal else None,
                action=event_label(event.action),
                outcome=str(Outcome(event.outcome).label)
                if event.outcome in Outcome.values
                else event.outcome,
                refused=event.outcome == Outcome.REFUSED,
                text_title=titles.get(event.text_id, "") if event.text_id else "",
                department=departments.get(event.department, event.department),
                from_state=state_label(event.from_state, version) if event.from_state else "",
                to_state=state_label(event.to_state, version) if event.to_state else "",
                note=_note(detail, people, departments),
                changes=field_changes(event.changes or {}, with_diff=with_diff, budget=budget),
            )
        )
    return views
