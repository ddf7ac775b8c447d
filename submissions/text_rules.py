"""Input no database will store, wherever it comes from (a body, a query, a file, a form)."""

import datetime
import re
from typing import Any

from django.utils.translation import gettext as _


def unstorable_reason(value: str) -> str | None:
    """Why `value` cannot be stored (NUL, or a lone surrogate that is not UTF-8), or None."""
    if "\x00" in value:
        return _("不能包含空字符（NUL）。")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("包含无效的 Unicode 字符（孤立代理项）。")
    return None


# Characters XML 1.0 cannot hold (Word and Excel files are XML): a text written through the
# API may contain them. Tab and line ends stay.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def printable(value: str) -> str:
    """`value` without the characters a Word or Excel file cannot hold."""
    return _XML_ILLEGAL.sub("", value)


def iso_date(value: Any) -> datetime.date | None:
    """A date as a client writes one (ISO 8601, "2025-09-01") or a date; None for nothing;
    ValueError, with a reader's message, for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(_("应为日期，如 2025-09-01。"))


# The budget years a text may be for.
FISCAL_YEARS = range(2000, 2101)


# Enough digits for any id or count the database holds (2**63 has 19).
_MAX_DIGITS = 19


def whole_number(value: Any) -> int | None:
    """A positive whole number as a client writes one: an int, or ASCII digits only; None for
    anything else ("1_000", " 7", "٣", "1e3", "-1", True) or too large for the database."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        if len(value) > _MAX_DIGITS:
            return None
        number = int(value)
    else:
        return None
    return number if 0 < number < 2**63 else None
