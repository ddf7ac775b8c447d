"""Consistency checks: what a finance reviewer used to check by hand, as warnings a reviewer
sees before deciding and a drafter before submitting.

A warning never stops anything by itself (what must stop a submit is in
`content.check_for_submit`); each names both places that disagree, so that the reader can
go and look. `warnings_for` takes a text's content as a mapping (a text, a revision or a
form's values), so that the page, the API and the documents ask the same question.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from submissions import amounts, tables
from submissions.sections import SECTION_FIELDS


@dataclass(frozen=True)
class Warning:
    code: str
    message: str
    # The fields it is about, first the one to fix: a section, "amount" or a table.
    places: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "places": list(self.places)}


# The codes, in the order warnings are listed: the API's `checks[].code`.
CODES = (
    "breakdown_total",
    "yearly_amount",
    "funding_prose_amount",
    "stray_year",
    "activity_without_milestone",
    "indicator_incomplete",
    "phone_in_public_text",
)


def _label(name: str) -> str:
    from submissions.content import field_label, section_heading

    if name in SECTION_FIELDS:
        return section_heading(SECTION_FIELDS.index(name))
    return field_label(name)


def _yuan(amount: Decimal) -> str:
    return _("%(amount)s元") % {"amount": amounts.formatted(amount)}


def _breakdown_total(values: Mapping[str, Any]) -> Iterator[Warning]:
    rows = values.get("breakdown") or []
    amount = values.get("amount")
    if rows and amount is not None and tables.total(rows) != Decimal(amount):
        yield Warning(
            "breakdown_total",
            _("资金明细合计 %(total)s，与金额 %(amount)s 不一致。")
            % {"total": _yuan(tables.total(rows)), "amount": _yuan(Decimal(amount))},
            ("breakdown", "amount"),
        )


def _yearly_amount(values: Mapping[str, Any]) -> Iterator[Warning]:
    amount, year = values.get("amount"), values.get("fiscal_year")
    for row in values.get("yearly_amounts") or []:
        if row.get("year") == year and amount is not None and Decimal(row["amount"]) != amount:
            yield Warning(
                "yearly_amount",
                _("分年度资金中 %(year)s 年为 %(row)s，与金额 %(amount)s 不一致。")
                % {
                    "year": year,
                    "row": _yuan(Decimal(row["amount"])),
                    "amount": _yuan(Decimal(amount)),
                },
                ("yearly_amounts", "amount"),
            )


def _funding_prose_amount(values: Mapping[str, Any]) -> Iterator[Warning]:
    """六's prose states the total (and maybe its parts): one of them must be the amount."""
    stated = amounts.amounts_in(values.get("funding") or "")
    amount = values.get("amount")
    if not stated or amount is None or any(value == Decimal(amount) for _w, value in stated):
        return
    written = max(stated, key=lambda item: item[1])[0]
    yield Warning(
        "funding_prose_amount",
        _("%(section)s写有“%(written)s”，与金额 %(amount)s 不一致。")
        % {
            "section": _label("funding"),
            "written": written,
            "amount": _yuan(Decimal(amount)),
        },
        ("funding", "amount"),
    )


# A year as prose writes it ("2024年"); one inside 《…》 (a document's title) or 〔…〕 (a
# document number) names when that document was issued, not when the project runs.
_YEAR = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?=\s*年)")
_CITED = re.compile(r"《[^》]*》|〔[^〕]*〕|\[[0-9]{4}\]")
# 立项依据 cites earlier decisions by nature: its years are not the project's.
_YEAR_SECTIONS = (
    *(name for name in SECTION_FIELDS if name != "basis"),
    "target_overall",
    "target_annual",
)


def _project_years(values: Mapping[str, Any]) -> set[int]:
    years = {values.get("fiscal_year")}
    start, end = values.get("start_date"), values.get("end_date")
    if start and end:
        years.update(range(start.year, end.year + 1))
    elif start or end:
        years.add((start or end).year)
    years.update(row["year"] for row in values.get("yearly_amounts") or [] if row.get("year"))
    return {year for year in years if year}


def _stray_year(values: Mapping[str, Any]) -> Iterator[Warning]:
    allowed = _project_years(values)
    span = "、".join(str(year) for year in sorted(allowed))
    for name in _YEAR_SECTIONS:
        prose = _CITED.sub(" ", values.get(name) or "")
        stray = sorted({int(year) for year in _YEAR.findall(prose)} - allowed)
        for year in stray:
            yield Warning(
                "stray_year",
                _("%(section)s写有 %(year)d 年，不在预算年度及项目期限（%(span)s 年）内。")
                % {"section": _label(name), "year": year, "span": span},
                (name, "fiscal_year"),
            )


# （一）基层党建工作: an activity heading in 五, or a part of the plan in 七.
_PART = re.compile(r"^\s*[（(]([一二三四五六七八九十]+)[)）]\s*(\S.*)$", re.MULTILINE)
_NOISE = re.compile(r"[\s“”\"'‘’《》、，,。.:：;；（）()]|工作$")


def _parts(prose: str) -> list[tuple[str, str]]:
    return [(f"（{number}）", title.strip()) for number, title in _PART.findall(prose or "")]


def _bigrams(words: str) -> set[str]:
    words = _NOISE.sub("", words)
    return {words[i : i + 2] for i in range(len(words) - 1)} or {words}


def _alike(a: str, b: str) -> bool:
    """Two names of one activity: one contains the other, or they share most bigrams
    (机关党支部及离退休党支部工作 and 机关党支部工作)."""
    plain_a, plain_b = _NOISE.sub("", a), _NOISE.sub("", b)
    if plain_a and plain_b and (plain_a in plain_b or plain_b in plain_a):
        return True
    ours, theirs = _bigrams(a), _bigrams(b)
    return 2 * len(ours & theirs) / (len(ours) + len(theirs)) >= 0.5


def _activity_without_milestone(values: Mapping[str, Any]) -> Iterator[Warning]:
    """Each part of 五 (（一）…) should have its place in the plan: a milestone row, or a
    part of 七's prose of the same name."""
    planned = [title for _n, title in _parts(values.get("plan") or "")]
    for row in values.get("milestones") or []:
        planned += [row.get("task") or "", row.get("activity") or ""]
    planned = [name for name in planned if name]
    for number, activity in _parts(values.get("content") or ""):
        if not any(_alike(activity, name) for name in planned):
            yield Warning(
                "activity_without_milestone",
                _("%(content)s%(number)s“%(activity)s”在%(plan)s及里程碑中没有对应安排。")
                % {
                    "content": _label("content"),
                    "number": number,
                    "activity": activity[:40],
                    "plan": _label("plan"),
                },
                ("content", "milestones"),
            )


def _indicator_incomplete(values: Mapping[str, Any]) -> Iterator[Warning]:
    for index, row in enumerate(values.get("indicators") or []):
        lacking = [
            str(tables.INDICATORS.column(key).label)
            for key in ("value", "unit")
            if not row.get(key)
        ]
        if lacking:
            yield Warning(
                "indicator_incomplete",
                _("%(table)s%(row)s缺少%(what)s。")
                % {
                    "table": tables.INDICATORS.label,
                    "row": tables.INDICATORS.row_name(index, row),
                    "what": _("、").join(lacking),
                },
                ("indicators",),
            )


# Mainland mobile numbers and landlines with an area code (0877-7012345, 0877 7012345).
PHONE = re.compile(r"(?<![0-9])(?:1[3-9][0-9]{9}|0[0-9]{2,3}[-\s]?[0-9]{7,8})(?![0-9])")
# Where a phone number would be published with the text.
_PUBLISHED_PROSE = (*SECTION_FIELDS, "target_overall", "target_annual")


def _phone_in_public_text(values: Mapping[str, Any]) -> Iterator[Warning]:
    if not values.get("for_publication"):
        return
    for name in _PUBLISHED_PROSE:
        found = PHONE.search(values.get(name) or "")
        if found:
            yield Warning(
                "phone_in_public_text",
                _("本文本拟公开，%(section)s含电话号码“%(phone)s”。")
                % {"section": _label(name), "phone": found.group(0)},
                (name, "for_publication"),
            )


_CHECKS = (
    _breakdown_total,
    _yearly_amount,
    _funding_prose_amount,
    _stray_year,
    _activity_without_milestone,
    _indicator_incomplete,
    _phone_in_public_text,
)


def warnings_for(values: Mapping[str, Any]) -> list[Warning]:
    """Every consistency warning for a text's content, in the order of `CODES`."""
    return [warning for check in _CHECKS for warning in check(values)]


def content_of(text: Any) -> dict[str, Any]:
    """A text's (or revision's) content as the checks read it."""
    from submissions.sections import CONTENT_FIELDS

    return {name: getattr(text, name) for name in CONTENT_FIELDS}
