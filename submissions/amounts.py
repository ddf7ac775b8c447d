"""Amounts in yuan: the one place that knows how they are written, read and said.

The pages show an amount as the sample writes it ("1,751,800.00元"); people type it that way,
or plainly ("1751800"), or with a Chinese input method's full-width digits and punctuation
("１７５１８００．００", "１，７５１，８００"), or in 万元 ("175.18万元"). `parse_amount` reads
all of these when `typed=True` (the page's form); without it (the API, the service) only ASCII
digits, optional comma grouping, two decimals at most and an optional 元, so the API's contract
stays as strict as it was. The importer finds amounts in prose with the same pieces.
"""

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

# The database column: 14 digits, 2 of them after the point.
INTEGER_DIGITS = 12
CENT = Decimal("0.01")
# How the integer part is written: comma-grouped by thousands, or plain. ASCII digits only:
# `\d` would also take Arabic-Indic or Devanagari digits, which nobody writes an amount in.
INTEGER = r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+"
FRACTION = r"\.[0-9]+"
# The units an amount is written in, and what they multiply by (longest first for regexes).
UNITS = {"万元": Decimal(10000), "元": Decimal(1)}
UNIT = "|".join(UNITS)

_STRICT = re.compile(rf"(?P<integer>{INTEGER})(?P<fraction>{FRACTION})?(?P<unit>元)?")
_TYPED = re.compile(rf"(?P<integer>{INTEGER})(?P<fraction>{FRACTION})?(?P<unit>{UNIT}|万)?")
# Full-width digits and punctuation (and the ideographic space) become ASCII; nothing else
# changes, so that "٣٠٠" or "1e3" are still refused.
_FULL_WIDTH = {chr(0xFF10 + n): str(n) for n in range(10)}
_FULL_WIDTH.update({"，": ",", "．": ".", "。": ".", "\u3000": " ", "－": "-", "＋": "+"})
_WIDTH = str.maketrans(_FULL_WIDTH)
# The example a refusal shows, as the pages write amounts.
EXAMPLE = "1,751,800.00"


# An amount as prose writes it, with its unit: "1,751,800.00元", "175.18万元".
IN_PROSE = re.compile(rf"(?<![\d.,_])({INTEGER})({FRACTION})?\s*({UNIT})")


class AmountError(ValueError):
    """Why a written amount cannot be read (its message is for the person who wrote it)."""


def in_yuan(integer: str, fraction: str | None, unit: str | None) -> Decimal | None:
    """The amount that digits and a unit stand for, exactly; None if it has more than
    INTEGER_DIGITS digits before the point. Checked on the digits first, so that Decimal
    never sees a gigantic number."""
    digits = integer.replace(",", "").lstrip("0")
    if len(digits) > INTEGER_DIGITS:
        return None
    value = Decimal((digits or "0") + (fraction or "")) * UNITS[unit or "元"]
    if value >= Decimal(10) ** INTEGER_DIGITS:
        return None
    return value


def _not_a_number(typed: bool) -> AmountError:
    if typed:
        return AmountError(
            _("金额无法识别，请填写数字，如 %(example)s 或 1751800。")
            % {"example": _("%(amount)s元") % {"amount": EXAMPLE}}
        )
    return AmountError(_("金额应为数字，如 1751800.00。"))


def parse_amount(value: str, *, typed: bool = False) -> Decimal:
    """The amount `value` writes, in yuan with two places; AmountError saying why not.

    `typed`: as a person types it into the page (full-width digits and punctuation, spaces
    anywhere, 万元); otherwise as a program sends it (ASCII, optional 元)."""
    written = value
    if typed:
        written = unicodedata.normalize("NFC", value).translate(_WIDTH)
        written = "".join(written.split())
    else:
        written = written.strip().removesuffix("元").strip()
    if written.startswith("-"):
        raise AmountError(_("金额不能为负数。"))
    match = (_TYPED if typed else _STRICT).fullmatch(written)
    if not match:
        raise _not_a_number(typed)
    unit = match["unit"] or "元"
    amount = in_yuan(match["integer"], match["fraction"], "万元" if unit == "万" else unit)
    if amount is None:
        raise AmountError(_("金额整数部分最多 %(n)d 位。") % {"n": INTEGER_DIGITS})
    return to_cents(amount)


def amounts_in(prose: str) -> list[tuple[str, Decimal]]:
    """Every amount `prose` states, as written and in yuan rounded to the cent; amounts
    beyond the column's size are left out."""
    found = []
    for match in IN_PROSE.finditer(prose):
        value = in_yuan(*match.groups())
        if value is not None:
            found.append((match.group(0), value.quantize(CENT, rounding=ROUND_HALF_UP)))
    return found


def clean_amount(value: Any) -> Decimal:
    """An amount in yuan: not negative, two places, at most 12 digits before the point.
    A string is read by `parse_amount` as a program writes it."""
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
    if amount >= Decimal(10) ** INTEGER_DIGITS:
        raise ValueError(_("金额整数部分最多 %(n)d 位。") % {"n": INTEGER_DIGITS})
    return to_cents(amount)


def to_cents(amount: Decimal) -> Decimal:
    """`amount` with two places; AmountError if it has more (a cent is the smallest unit)."""
    try:
        cents = amount.quantize(CENT)
    except InvalidOperation:
        raise AmountError(_("金额整数部分最多 %(n)d 位。") % {"n": INTEGER_DIGITS}) from None
    if amount != cents:
        raise AmountError(_("金额最多两位小数。"))
    # -0 is zero: never stored, shown or audited as "-0.00".
    return cents.copy_abs() if cents.is_zero() else cents


def formatted(amount: Decimal) -> str:
    """1751800 -> "1,751,800.00" (without the unit)."""
    return f"{amount:,.2f}"


def in_capitals(amount: Decimal) -> str:
    """The amount as a cheque or a budget form writes it in words (大写): 1751800 ->
    壹佰柒拾伍万壹仟捌佰元整; zero is 零元整."""
    import cn2an

    return str(cn2an.an2cn(f"{amount:.2f}", "rmb"))
