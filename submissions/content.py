"""Rules for the content of a project text: which fields there are, and what is acceptable."""

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from submissions import tables
from submissions.amounts import clean_amount
from submissions.errors import InvalidInput
from submissions.models import Category, Novelty
from submissions.sections import (
    CONTENT_FIELDS,
    NUMERALS,
    READING_ORDER,
    SECTION_FIELDS,
    TABLE_FIELDS,
    TARGET_FIELDS,
)
from submissions.text_rules import FISCAL_YEARS, iso_date, unstorable_reason

TITLE_MAX_CHARS = 200
# The longest section of the sample is about 6,000 characters; this leaves ample room
# while keeping one text a size a reviewer (and the database) can handle.
SECTION_MAX_CHARS = 100_000


def _clean_text(name: str, value: Any, errors: dict[str, list[str]]) -> str | None:
    if not isinstance(value, str):
        errors[name] = [_("应为文本。")]
        return None
    limit = TITLE_MAX_CHARS if name == "title" else SECTION_MAX_CHARS
    if len(value) > limit:
        errors[name] = [_("不能超过 %(limit)d 个字符。") % {"limit": limit}]
        return None
    reason = unstorable_reason(value)
    if reason:
        errors[name] = [reason]
        return None
    return value.strip() if name == "title" else value


PHONE_MAX_CHARS = 30
PERSON_MAX_CHARS = 50
_PHONE_CHARACTERS = re.compile(r"^[0-9+()\- 、,，/]+$")


def _clean_short(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(_("应为文本。"))
    value = value.strip()
    reason = unstorable_reason(value)
    if reason:
        raise ValueError(reason)
    if len(value) > limit:
        raise ValueError(_("不能超过 %(limit)d 个字符。") % {"limit": limit})
    return value


def _clean_choice(value: Any, choices: Iterable[tuple[str, Any]]) -> str:
    """A choice by its code or its label (特定目标类 is specific_purpose); "" for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        for code, label in choices:
            if value.strip() in (code, str(label)):
                return code
    names = "、".join(f"{code}（{label}）" for code, label in choices)
    raise ValueError(_("应为以下之一：%(names)s") % {"names": names})


def _clean_project_code(value: Any) -> str:
    code = _clean_short(value, 40)
    if code and not re.fullmatch(settings.PROJECT_CODE_PATTERN, code):
        raise ValueError(
            _("项目编码格式不符（应符合 %(pattern)s）。")
            % {"pattern": settings.PROJECT_CODE_PATTERN}
        )
    return code


def _clean_phone(value: Any) -> str:
    phone = _clean_short(value, PHONE_MAX_CHARS)
    if phone and not (_PHONE_CHARACTERS.match(phone) and any(c.isdigit() for c in phone)):
        raise ValueError(_("应为电话号码，如 0877-7012345 或 13800000000。"))
    return phone


def _clean_flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(_("应为 true 或 false。"))
    return value


_STRUCTURED_CLEANERS = {
    "project_code": _clean_project_code,
    "category": lambda value: _clean_choice(value, Category.choices),
    "novelty": lambda value: _clean_choice(value, Novelty.choices),
    "start_date": iso_date,
    "end_date": iso_date,
    "contact_person": lambda value: _clean_short(value, PERSON_MAX_CHARS),
    "contact_phone": _clean_phone,
    "for_publication": _clean_flag,
    **{name: lambda value: _clean_short(value, SECTION_MAX_CHARS) for name in TARGET_FIELDS},
    **{
        table.field: (lambda value, table=table: tables.clean_rows(table, value))
        for table in tables.TABLES
    },
}


def clean_content(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate content fields; raise InvalidInput naming every bad field.

    `partial` is for edits: only the fields given are checked. Fields that are not content
    (state, department, version, ...) are refused, so that they can never be written here.
    Where a cost breakdown is given and the amount is not, the amount is the breakdown's
    total: the rows are how the amount was reached.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name in data:
        if name not in CONTENT_FIELDS:
            errors[name] = [_("不能设置此字段。")]
    for name in SECTION_FIELDS:
        if name in data:
            value = _clean_text(name, data[name], errors)
            if value is not None:
                cleaned[name] = value
    for name, clean in _STRUCTURED_CLEANERS.items():
        if name in data:
            try:
                cleaned[name] = clean(data[name])
            except ValueError as error:
                errors[name] = [str(error)]
    if cleaned.get("breakdown") and "amount" not in data:
        cleaned["amount"] = tables.total(cleaned["breakdown"])
    if "amount" in data:
        try:
            cleaned["amount"] = clean_amount(data["amount"])
        except ValueError as error:
            errors["amount"] = [str(error)]
    if "fiscal_year" in data:
        year = data["fiscal_year"]
        if isinstance(year, bool) or not isinstance(year, int) or year not in FISCAL_YEARS:
            errors["fiscal_year"] = [_("预算年度应为 2000 到 2100 之间的整数。")]
        else:
            cleaned["fiscal_year"] = year
    if not partial:
        for name in ("title", "fiscal_year"):
            if name not in data and name not in errors:
                errors[name] = [_("必须填写。")]
    if "title" in cleaned and not cleaned["title"]:
        errors["title"] = [_("项目名称不能为空。")]
    if errors:
        raise InvalidInput(errors)
    return cleaned


def inconsistencies(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Content that contradicts itself in a way no text may be stored or submitted with:
    a project that ends before it starts. Checked by every write after merging the change."""
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        return {
            "end_date": [
                _("结束日期（%(end)s）早于开始日期（%(start)s）。") % {"end": end, "start": start}
            ]
        }
    return {}


class SubmitRefusal(InvalidInput):
    """What keeps a text from being submitted, each field named, with one sentence for
    the page: 提交前必须填写：项目实施计划、金额（大于 0）。资金明细合计 … 不一致。"""


def check_for_submit(values: Mapping[str, Any], *, required_tables: Iterable[str] = ()) -> None:
    """Refuse (SubmitRefusal) a text that lacks what a submit needs: every section, an
    amount, the tables its workflow requires; or whose cost breakdown does not add up to
    the amount, or whose dates contradict each other."""
    missing = [name for name in SECTION_FIELDS if not str(values.get(name) or "").strip()]
    if not values.get("amount") or values["amount"] <= 0:
        missing.append("amount")
    missing += [name for name in required_tables if not values.get(name)]
    conflicts = dict(inconsistencies(values))
    rows = values.get("breakdown") or []
    if rows and values.get("amount") is not None:
        breakdown_total, amount = tables.total(rows), Decimal(values["amount"])
        if breakdown_total != amount:
            conflicts["breakdown"] = [
                _("资金明细合计 %(total)s元，与金额 %(amount)s元 不一致。")
                % {"total": f"{breakdown_total:,.2f}", "amount": f"{amount:,.2f}"}
            ]
    if not missing and not conflicts:
        return
    errors: dict[str, list[str]] = {}
    for name in missing:
        if name == "amount":
            errors[name] = [_("提交前金额必须大于 0。")]
        elif name in SECTION_FIELDS:
            errors[name] = [_("提交前必须填写此部分。")]
        else:
            errors[name] = [_("提交前必须填写%(table)s。") % {"table": field_label(name)}]
    for name, messages in conflicts.items():
        errors.setdefault(name, []).extend(messages)
    order = (*READING_ORDER, *TABLE_FIELDS)
    names = [
        _("金额（大于 0）") if name == "amount" else field_label(name)
        for name in sorted(missing, key=order.index)
    ]
    sentences = [_("提交前必须填写：%(names)s。") % {"names": _("、").join(names)}] if names else []
    sentences += [message for messages in conflicts.values() for message in messages]
    raise SubmitRefusal(errors, summary="".join(sentences))


def field_label(name: str) -> str:
    """A content field's name in the active language, e.g. 资金安排情况 or 资金明细."""
    from submissions.models import ProjectText

    return str(ProjectText._meta.get_field(name).verbose_name)


section_label = field_label


def section_heading(index: int) -> str:
    """The numbered heading: 六、资金安排情况 in Chinese, "6. Funding arrangement" else."""
    label = section_label(SECTION_FIELDS[index])
    if get_language().startswith("zh"):
        return f"{NUMERALS[index]}、{label}"
    return f"{index + 1}. {label}"


def section_choices() -> list[tuple[str, str]]:
    return [(name, section_label(name)) for name in SECTION_FIELDS]
