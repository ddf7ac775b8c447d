"""Rules for the content of a project text: which fields there are, and what is acceptable."""

from decimal import Decimal
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from submissions.amounts import parse_amount, to_cents
from submissions.errors import InvalidInput
from submissions.models import AMOUNT_MAX_DIGITS, AMOUNT_PLACES
from submissions.sections import CONTENT_FIELDS, NUMERALS, READING_ORDER, SECTION_FIELDS
from submissions.text_rules import unstorable_reason

TITLE_MAX_CHARS = 200
# The longest section of the sample is about 6,000 characters; this leaves ample room
# while keeping one text a size a reviewer (and the database) can handle.
SECTION_MAX_CHARS = 100_000
AMOUNT_INTEGER_DIGITS = AMOUNT_MAX_DIGITS - AMOUNT_PLACES
FISCAL_YEARS = range(2000, 2101)


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


def clean_amount(value: Any) -> Decimal:
    """An amount in yuan: not negative, two places, at most 12 digits before the point.
    A string is read by `submissions.amounts.parse_amount` as a program writes it."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError(_("金额应为数字，如 1751800.00。"))
    if isinstance(value, str):
        return parse_amount(value)
    amount = Decimal(str(value))
    if not amount.is_finite():
        raise ValueError(_("金额应为数字，如 1751800.00。"))
    if amount < 0:
        raise ValueError(_("金额不能为负数。"))
    # Size first: quantizing a huge value (1E+400) raises rather than answers.
    if amount >= Decimal(10) ** AMOUNT_INTEGER_DIGITS:
        raise ValueError(_("金额整数部分最多 %(n)d 位。") % {"n": AMOUNT_INTEGER_DIGITS})
    return to_cents(amount)


def clean_content(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate content fields; raise InvalidInput naming every bad field.

    `partial` is for edits: only the fields given are checked. Fields that are not content
    (state, department, version, ...) are refused, so that they can never be written here.
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


def missing_for_submit(values: dict[str, Any]) -> dict[str, list[str]]:
    """What a text still lacks before it may be submitted: every section, and an amount."""
    errors = {
        name: [_("提交前必须填写此部分。")]
        for name in SECTION_FIELDS
        if not str(values.get(name) or "").strip()
    }
    if not values.get("amount") or values["amount"] <= 0:
        errors["amount"] = [_("提交前金额必须大于 0。")]
    return errors


def missing_summary(missing: dict[str, list[str]]) -> str:
    """One sentence naming everything `missing_for_submit` found missing, in the reader's
    language: 提交前必须填写：项目实施计划、项目实施成效、金额（大于 0）。"""
    names = [
        _("金额（大于 0）") if name == "amount" else section_label(name)
        for name in READING_ORDER
        if name in missing
    ]
    return _("提交前必须填写：%(names)s。") % {"names": _("、").join(names)}


def section_label(name: str) -> str:
    """A section's (or the amount's) name in the active language, e.g. 资金安排情况."""
    from submissions.models import ProjectText

    return str(ProjectText._meta.get_field(name).verbose_name)


def section_heading(index: int) -> str:
    """The numbered heading: 六、资金安排情况 in Chinese, "6. Funding arrangement" else."""
    label = section_label(SECTION_FIELDS[index])
    if get_language().startswith("zh"):
        return f"{NUMERALS[index]}、{label}"
    return f"{index + 1}. {label}"


def section_choices() -> list[tuple[str, str]]:
    return [(name, section_label(name)) for name in SECTION_FIELDS]
