"""The structured parts of a project text beside its prose: the tables (资金明细, 绩效目标表,
实施计划, 立项依据文件, 分年度资金) and the choices their cells take.

This is the one description of them. Validation (`clean_rows`), the edit pages, the API,
the diff, the audit's readable changes, the importer and every document that goes out
(审批表, publication bundle, exchange workbook) read their columns from here.

A table is stored as a JSON list of rows on the text (and frozen with it in each
revision); a row is a mapping of every column's key to its canonical value: text as
written (stripped), an amount as a string with two places ("12000.00"), a date as ISO
8601 ("2025-09-01"), a year as an int, a choice as its code, and "" or None for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from submissions.amounts import clean_amount, parse_amount
from submissions.text_rules import FISCAL_YEARS, iso_date, unstorable_reason

MAX_ROWS = 200
CELL_MAX_CHARS = 2_000
WEIGHT_LIMIT = Decimal(1000)


class Kind:
    TEXT = "text"
    AMOUNT = "amount"
    DATE = "date"
    YEAR = "year"
    CHOICE = "choice"
    NUMBER = "number"  # a weight: not negative, two places at most


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise
    kind: str = Kind.TEXT
    required: bool = False
    choices: tuple[tuple[str, Promise], ...] = ()
    default: Any = ""
    max_chars: int = 200

    def choice_label(self, code: Any) -> str:
        return str(dict(self.choices).get(code, code or ""))


@dataclass(frozen=True)
class Table:
    field: str  # the text's field that holds the rows
    label: Promise
    columns: tuple[Column, ...]
    # the column a reader names a row by ("第 3 行（培训费）")
    name_column: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)

    def row_name(self, index: int, row: dict[str, Any]) -> str:
        """第 3 行（培训费）: how a message names a row, counting from 1 as a reader does."""
        name = str(row.get(self.name_column) or "")[:20] if self.name_column else ""
        where = _("第 %(n)d 行") % {"n": index + 1}
        return _("%(row)s（%(name)s）") % {"row": where, "name": name} if name else where


FUNDING_SOURCES = (
    ("local", gettext_lazy("本级财政")),
    ("transfer", gettext_lazy("上级补助")),
    ("other", gettext_lazy("其他")),
)

# 一级指标 and the 二级指标 under each: the table every county form found carries.
INDICATOR_LEVELS: tuple[tuple[str, Promise, tuple[tuple[str, Promise], ...]], ...] = (
    (
        "output",
        gettext_lazy("产出指标"),
        (
            ("quantity", gettext_lazy("数量指标")),
            ("quality", gettext_lazy("质量指标")),
            ("timeliness", gettext_lazy("时效指标")),
            ("cost", gettext_lazy("成本指标")),
        ),
    ),
    (
        "benefit",
        gettext_lazy("效益指标"),
        (
            ("economic", gettext_lazy("经济效益指标")),
            ("social", gettext_lazy("社会效益指标")),
            ("ecological", gettext_lazy("生态效益指标")),
            ("sustainable", gettext_lazy("可持续影响指标")),
        ),
    ),
    (
        "satisfaction",
        gettext_lazy("满意度指标"),
        (("beneficiary", gettext_lazy("服务对象满意度指标")),),
    ),
)
LEVEL1_CHOICES = tuple((code, label) for code, label, _subs in INDICATOR_LEVELS)
LEVEL2_CHOICES = tuple(sub for _code, _label, subs in INDICATOR_LEVELS for sub in subs)
LEVEL2_PARENT = {sub: code for code, _label, subs in INDICATOR_LEVELS for sub, _l in subs}
COMPARISONS = (("≥", "≥"), ("≤", "≤"), ("=", "="))
TERMS = (("annual", gettext_lazy("年度")), ("long_term", gettext_lazy("长期")))

BASIS_DOCUMENTS = Table(
    "basis_documents",
    gettext_lazy("立项依据文件"),
    (
        Column("title", gettext_lazy("文件名称"), required=True, max_chars=300),
        Column("number", gettext_lazy("文号"), max_chars=100),
    ),
    name_column="title",
)
BREAKDOWN = Table(
    "breakdown",
    gettext_lazy("资金明细"),
    (
        Column("item", gettext_lazy("支出事项"), required=True),
        Column("amount", gettext_lazy("金额（元）"), Kind.AMOUNT, required=True),
        Column("basis", gettext_lazy("测算依据"), max_chars=CELL_MAX_CHARS),
        Column(
            "source",
            gettext_lazy("资金来源"),
            Kind.CHOICE,
            choices=FUNDING_SOURCES,
            default="local",
        ),
    ),
    name_column="item",
)
YEARLY_AMOUNTS = Table(
    "yearly_amounts",
    gettext_lazy("分年度资金"),
    (
        Column("year", gettext_lazy("年度"), Kind.YEAR, required=True, default=None),
        Column("amount", gettext_lazy("金额（元）"), Kind.AMOUNT, required=True),
    ),
    name_column="year",
)
INDICATORS = Table(
    "indicators",
    gettext_lazy("绩效指标"),
    (
        Column(
            "level1", gettext_lazy("一级指标"), Kind.CHOICE, required=True, choices=LEVEL1_CHOICES
        ),
        Column(
            "level2", gettext_lazy("二级指标"), Kind.CHOICE, required=True, choices=LEVEL2_CHOICES
        ),
        Column("name", gettext_lazy("三级指标"), required=True),
        Column("comparison", gettext_lazy("指标性质"), Kind.CHOICE, choices=COMPARISONS),
        Column("value", gettext_lazy("指标值"), max_chars=100),
        Column("unit", gettext_lazy("计量单位"), max_chars=20),
        Column("weight", gettext_lazy("权重（分）"), Kind.NUMBER),
        Column("term", gettext_lazy("期限"), Kind.CHOICE, choices=TERMS, default="annual"),
    ),
    name_column="name",
)
MILESTONES = Table(
    "milestones",
    gettext_lazy("实施计划（里程碑）"),
    (
        Column("task", gettext_lazy("事项"), required=True, max_chars=300),
        Column("starts", gettext_lazy("开始日期"), Kind.DATE, default=None),
        Column("due", gettext_lazy("完成日期"), Kind.DATE, required=True, default=None),
        Column("activity", gettext_lazy("对应实施内容"), max_chars=300),
    ),
    name_column="task",
)

TABLES: tuple[Table, ...] = (BASIS_DOCUMENTS, BREAKDOWN, YEARLY_AMOUNTS, INDICATORS, MILESTONES)
BY_FIELD: dict[str, Table] = {table.field: table for table in TABLES}
# Tables a workflow document may require before submit (`submit_requires`).
REQUIRABLE: tuple[str, ...] = ("breakdown", "indicators", "milestones")


def _clean_cell(column: Column, value: Any) -> Any:
    """The canonical value of one cell; ValueError (with a reader's message) if unusable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if column.required:
            raise ValueError(_("必须填写。"))
        return column.default
    if column.kind == Kind.AMOUNT:
        return f"{clean_amount(value):.2f}"
    if column.kind == Kind.NUMBER:
        try:
            number = parse_amount(value) if isinstance(value, str) else Decimal(str(value))
        except (ValueError, ArithmeticError):
            raise ValueError(_("应为数字。")) from None
        if isinstance(value, bool) or not number.is_finite() or not 0 <= number < WEIGHT_LIMIT:
            raise ValueError(_("应为 0 到 1000 之间的数字。"))
        return f"{number.quantize(Decimal('0.01')):.2f}"
    if column.kind == Kind.YEAR:
        year = value if isinstance(value, int) and not isinstance(value, bool) else None
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            year = int(value.strip())
        if year not in FISCAL_YEARS:
            raise ValueError(_("应为 2000 到 2100 之间的年份。"))
        return year
    if column.kind == Kind.DATE:
        return iso_date(value).isoformat()
    if not isinstance(value, str):
        raise ValueError(_("应为文本。"))
    text = value.strip()
    reason = unstorable_reason(text)
    if reason:
        raise ValueError(reason)
    if column.kind == Kind.CHOICE:
        codes = {code: code for code, _label in column.choices}
        # A reader's word is as good as the code: "本级财政" is "local".
        codes.update({str(label): code for code, label in column.choices})
        if text not in codes:
            names = "、".join(str(label) for _code, label in column.choices)
            raise ValueError(_("应为以下之一：%(names)s") % {"names": names})
        return codes[text]
    if len(text) > column.max_chars:
        raise ValueError(_("不能超过 %(limit)d 个字符。") % {"limit": column.max_chars})
    return text


def clean_rows(table: Table, value: Any) -> list[dict[str, Any]]:
    """Validate a table's rows; raise ValueError naming every bad cell by row and column.
    Rows with nothing in them are dropped, as a reader would expect of a blank line."""
    if not isinstance(value, list):
        raise ValueError(_("应为行的列表。"))
    if len(value) > MAX_ROWS:
        raise ValueError(_("最多 %(n)d 行。") % {"n": MAX_ROWS})
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for index, row in enumerate(value):
        if not isinstance(row, dict):
            problems.append(_("%(row)s：应为一行（映射）。") % {"row": table.row_name(index, {})})
            continue
        unknown = [key for key in row if key not in table.keys]
        if unknown:
            problems.append(
                _("%(row)s：未知列“%(key)s”；可用列：%(allowed)s。")
                % {
                    "row": table.row_name(index, {}),
                    "key": str(unknown[0])[:40],
                    "allowed": ", ".join(table.keys),
                }
            )
            continue
        if all(row.get(key) in (None, "") for key in table.keys):
            continue
        cleaned: dict[str, Any] = {}
        for column in table.columns:
            try:
                cleaned[column.key] = _clean_cell(column, row.get(column.key))
            except ValueError as error:
                problems.append(
                    _("%(row)s“%(column)s”：%(problem)s")
                    % {
                        "row": table.row_name(index, row if isinstance(row, dict) else {}),
                        "column": column.label,
                        "problem": error,
                    }
                )
        level2 = cleaned.get("level2") if table is INDICATORS else None
        if level2 and LEVEL2_PARENT.get(level2) != cleaned.get("level1"):
            problems.append(
                _("%(row)s：二级指标“%(sub)s”不属于一级指标“%(top)s”。")
                % {
                    "row": table.row_name(index, row),
                    "sub": table.column("level2").choice_label(cleaned["level2"]),
                    "top": table.column("level1").choice_label(cleaned.get("level1")),
                }
            )
        rows.append(cleaned)
    if problems:
        raise ValueError("；".join(problems[:20]))
    return rows


def total(rows: Iterable[dict[str, Any]], key: str = "amount") -> Decimal:
    return sum((Decimal(row[key]) for row in rows if row.get(key)), Decimal("0.00"))


def display_cell(column: Column, value: Any) -> str:
    """A cell as a reader sees it: a choice's label, an amount with separators."""
    if value in (None, ""):
        return ""
    if column.kind == Kind.CHOICE:
        return column.choice_label(value)
    if column.kind == Kind.AMOUNT:
        return f"{Decimal(value):,.2f}"
    if column.kind == Kind.NUMBER:
        return f"{Decimal(value).normalize():f}"
    return str(value)
