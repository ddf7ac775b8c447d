"""Forms of the pages: rendering and type checks only; the rules live in workflow.services.

The text form's tables (资金明细, 绩效指标, …) are not Django formsets: each cell is posted as
``<table>-<row>-<column>`` (``breakdown-3-amount``), rows in the order of their numbers, and
the columns, labels, kinds and choices all come from `submissions.tables`. Rows can be added
and removed by script (tables.js) or, without it, by the same buttons sent to the server,
which answers the form again with a row more or less and nothing saved.
"""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from submissions import tables
from submissions.amounts import AmountError, formatted, parse_amount
from submissions.content import (
    SECTION_FIELDS,
    clean_content,
    field_label,
    section_heading,
    section_label,
)
from submissions.errors import InvalidInput
from submissions.models import Category, Novelty
from submissions.sections import PROJECT_FIELDS, TARGET_FIELDS

# Budget preparation (编制) for next year starts around mid-year: from July on, a new text
# is almost always next year's budget; before that, this year's (an adjustment or a late
# project). The drafter can change it.
NEXT_YEAR_FROM_MONTH = 7


def default_fiscal_year(today: datetime.date) -> int:
    """The budget year a new text most likely belongs to on `today`."""
    return today.year + 1 if today.month >= NEXT_YEAR_FROM_MONTH else today.year


def _normalise(value: str) -> str:
    """Browsers send textarea line breaks as CRLF; the sample and the service use LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


class MarkedField(BoundField):
    """A field that says it is wrong the Bootstrap way (is-invalid) besides what Django
    already writes (aria-invalid, aria-describedby pointing at the error list)."""

    def build_widget_attrs(self, attrs: dict[str, Any], widget: Any = None) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        if self.errors and not widget.is_hidden:
            classes = attrs.get("class") or widget.attrs.get("class", "")
            attrs["class"] = f"{classes} is-invalid".strip()
        return attrs


class SummarisedForm(forms.Form):
    """A form whose errors can be listed at its top: each with the field's short name and a
    link to it."""

    bound_field_class = MarkedField
    # Shorter names than the labels where a label carries a number or a unit.
    short_names: dict[str, Any] = {}

    def error_summary(self) -> list[dict[str, str]]:
        items = []
        for name, errors in self.errors.items():
            for message in errors:
                if name in self.fields:
                    label = self.short_names.get(name) or self.fields[name].label
                    anchor = self[name].id_for_label
                    items.append({"id": anchor, "label": str(label), "message": message})
                else:
                    items.append({"id": "", "label": "", "message": message})
        return items


def summary_of(errors: dict[str, list[str]], labels: dict[str, Any]) -> list[dict[str, str]]:
    """The same list for a page whose errors are a service's {field: [messages]}: fields in
    `labels` link to the control of id `id_<field>`, anything else is listed unlinked."""
    items = []
    for name, messages in errors.items():
        for message in messages:
            if name in labels:
                items.append({"id": f"id_{name}", "label": str(labels[name]), "message": message})
            else:
                items.append({"id": "", "label": "", "message": str(message)})
    return items


def yuan_format() -> str:
    return gettext("%(amount)s元")


# --- the tables of a text, as rows of inputs ----------------------------------------------------

# Blank rows offered below a table's rows: where a person without script types a new row (a
# blank row is not saved). A table with no rows gets two.
SPARE_ROWS = 1
SPARE_ROWS_WHEN_EMPTY = 2
# Columns longer than this are a textarea.
TEXTAREA_FROM_CHARS = 500
# A column whose choices follow another column's value: 二级指标 under its 一级指标.
FOLLOWS: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("indicators", "level2"): ("level1", tables.LEVEL2_PARENT),
}
_CELL_NAME = re.compile(r"^(?P<table>[a-z_]+)-(?P<index>[0-9]{1,4})-(?P<key>[a-z_0-9]+)$")


@dataclass
class Option:
    value: str
    label: str
    selected: bool
    parent: str = ""


@dataclass
class OptionGroup:
    label: str
    parent: str
    options: list[Option]


@dataclass
class Cell:
    column: tables.Column
    name: str
    id: str
    value: str
    widget: str  # text, textarea, date, select
    options: list[Option] = field(default_factory=list)
    groups: list[OptionGroup] = field(default_factory=list)
    follows: str = ""  # the id of the cell whose value this one's choices follow


@dataclass
class EditorRow:
    index: str
    number: int
    cells: list[Cell]
    error: str = ""


def _editor_value(column: tables.Column, value: Any) -> str:
    """A stored cell as the form shows it: amounts with separators, as they are typed back."""
    if value in (None, ""):
        return ""
    if column.kind in (tables.Kind.AMOUNT, tables.Kind.NUMBER):
        return tables.display_cell(column, value)
    return str(value)


def _widget_of(column: tables.Column) -> str:
    if column.kind == tables.Kind.CHOICE:
        return "select"
    if column.kind == tables.Kind.DATE:
        return "date"
    if column.kind == tables.Kind.TEXT and column.max_chars > TEXTAREA_FROM_CHARS:
        return "textarea"
    return "text"


def _sent_cell(column: tables.Column, value: str) -> str:
    """What the service is given for a typed cell: an amount as people type it (1.2万,
    12,000元) read here as the amount field is; anything unreadable as typed, for the service
    to name."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if column.kind == tables.Kind.AMOUNT and value.strip():
        try:
            return f"{parse_amount(value, typed=True):.2f}"
        except AmountError:
            return value
    return value


class TableEditor:
    """One table of the text form: its rows as typed (or stored), a blank row or two, the
    template a script copies for a new row, and what is wrong with it."""

    def __init__(self, table: tables.Table, rows: list[dict[str, str]], spare: int = 0) -> None:
        self.table = table
        self.field = table.field
        self.label = table.label
        self.columns = table.columns
        self.typed = rows  # every row with something in it, in order
        self.errors: list[str] = []
        self.row_errors: dict[int, str] = {}
        self.spare = spare + (SPARE_ROWS_WHEN_EMPTY if not rows else SPARE_ROWS)

    @property
    def id(self) -> str:
        return f"id_{self.field}"

    def rows(self) -> list[EditorRow]:
        shown = [*self.typed, *({} for _n in range(self.spare))]
        return [
            EditorRow(str(i), i + 1, self._cells(str(i), row), self.row_errors.get(i, ""))
            for i, row in enumerate(shown)
        ]

    def template_row(self) -> EditorRow:
        """The row a script copies to add one: `__n__` stands for its number."""
        return EditorRow("__n__", 0, self._cells("__n__", {}))

    @property
    def next_index(self) -> int:
        return len(self.typed) + self.spare

    def _cells(self, index: str, row: dict[str, str]) -> list[Cell]:
        cells = []
        for column in self.columns:
            name = f"{self.field}-{index}-{column.key}"
            value = row.get(column.key, "")
            cell = Cell(column, name, f"id_{name}", value, _widget_of(column))
            if cell.widget == "select":
                self._choices(cell, index, value)
            cells.append(cell)
        return cells

    def _choices(self, cell: Cell, index: str, value: str) -> None:
        follows = FOLLOWS.get((self.field, cell.column.key))
        if follows is None:
            cell.options = [
                Option(code, str(label), code == value) for code, label in cell.column.choices
            ]
            return
        parent_key, parents = follows
        cell.follows = f"id_{self.field}-{index}-{parent_key}"
        parent_column = self.table.column(parent_key)
        for parent, parent_label in parent_column.choices:
            options = [
                Option(code, str(label), code == value, parent)
                for code, label in cell.column.choices
                if parents.get(code) == parent
            ]
            cell.groups.append(OptionGroup(str(parent_label), parent, options))

    def total(self, key: str = "amount") -> Decimal | None:
        """The sum of the column as typed (cells that cannot be read left out); None for a
        table without rows."""
        if not self.typed:
            return None
        found = Decimal("0.00")
        for row in self.typed:
            try:
                found += parse_amount(row.get(key) or "0", typed=True)
            except AmountError:
                continue
        return found

    def sent(self) -> list[dict[str, str]]:
        return [
            {column.key: _sent_cell(column, row.get(column.key, "")) for column in self.columns}
            for row in self.typed
        ]

    def find_row_errors(self) -> None:
        """Which rows are wrong, each with its own message (the service names rows by their
        place, counting blank ones: the rows before it are given as blank)."""
        for i, row in enumerate(self.sent()):
            try:
                tables.clean_rows(self.table, [{} for _n in range(i)] + [row])
            except ValueError as error:
                self.row_errors[i] = str(error)


def posted_rows(data: QueryDict | dict[str, Any], table: tables.Table) -> dict[int, dict]:
    """The rows of `table` in a posted form, by their number: blank ones too."""
    rows: dict[int, dict[str, str]] = {}
    for name in data:
        found = _CELL_NAME.match(name)
        if not found or found["table"] != table.field or found["key"] not in table.keys:
            continue
        value = data.get(name)
        rows.setdefault(int(found["index"]), {})[found["key"]] = str(value or "")[:5_000]
    return rows


def _is_blank(row: dict[str, str]) -> bool:
    return not any(str(value).strip() for value in row.values())


# The form's project data: the widget for each (labels are the model's).
def _project_field(name: str) -> forms.Field:
    label = field_label(name)
    text = {"class": "form-control"}
    if name in ("category", "novelty"):
        choices = Category.choices if name == "category" else Novelty.choices
        return forms.ChoiceField(
            label=label,
            required=False,
            choices=[("", "—"), *choices],
            widget=forms.Select(attrs={"class": "form-select"}),
        )
    if name in ("start_date", "end_date"):
        return forms.DateField(
            label=label,
            required=False,
            widget=forms.DateInput(attrs={**text, "type": "date"}, format="%Y-%m-%d"),
        )
    if name == "for_publication":
        return forms.BooleanField(
            label=label,
            required=False,
            help_text=_("拟公开的文本发布前会隐去电话号码。"),
            widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        )
    limits = {"project_code": 40, "contact_person": 50, "contact_phone": 30}
    attrs = dict(text)
    if name == "contact_phone":
        attrs.update(type="tel", inputmode="tel", autocomplete="off")
    return forms.CharField(
        label=label, required=False, max_length=limits[name], widget=forms.TextInput(attrs=attrs)
    )


class TextForm(SummarisedForm):
    """Everything a drafter writes: the eight sections of the sample, the amount, the fiscal
    year, the project data, the targets and the tables."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    department = forms.ChoiceField(
        label=_("部门"), required=False, widget=forms.Select(attrs={"class": "form-select"})
    )
    fiscal_year = forms.IntegerField(
        label=_("预算年度"),
        min_value=0,
        max_value=9999,
        widget=forms.NumberInput(attrs={"class": "form-control year", "inputmode": "numeric"}),
    )
    amount = forms.CharField(
        label=_("金额（元）"),
        required=False,
        max_length=40,
        help_text=_("可以写成 1,751,800.00元、1751800 或 175.18万元。"),
        widget=forms.TextInput(
            attrs={"class": "form-control amount", "inputmode": "decimal", "autocomplete": "off"}
        ),
    )

    def __init__(
        self,
        *args: Any,
        departments: list[tuple[str, str]] | None = None,
        more_rows: dict[str, int] | None = None,
        skip_row: tuple[str, int] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        if departments:
            if len(departments) > 1:
                self.fields["department"].choices = [("", _("请选择部门")), *departments]
            else:
                # One department: it is the default, shown so that the drafter sees it.
                self.fields["department"].choices = departments
                self.fields["department"].initial = departments[0][0]
        else:
            del self.fields["department"]
        if self.fields["fiscal_year"].initial is None and "fiscal_year" not in self.initial:
            self.fields["fiscal_year"].initial = default_fiscal_year(timezone.localdate())
        for index, name in enumerate(SECTION_FIELDS):
            if name == "title":
                widget = forms.TextInput(attrs={"class": "form-control", "aria-required": "true"})
            else:
                widget = forms.Textarea(attrs={"class": "form-control", "rows": 5})
            self.fields[name] = forms.CharField(
                label=section_heading(index), required=False, strip=False, widget=widget
            )
        for name in PROJECT_FIELDS:
            self.fields[name] = _project_field(name)
        for name in TARGET_FIELDS:
            self.fields[name] = forms.CharField(
                label=field_label(name),
                required=False,
                strip=False,
                widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
            )
        # The amount belongs beside 六、资金安排情况.
        order = ["version", "department", "fiscal_year", *PROJECT_FIELDS]
        order += [*SECTION_FIELDS[:6], "amount", *SECTION_FIELDS[6:], *TARGET_FIELDS]
        self.order_fields(order)
        self.short_names = {name: section_label(name) for name in SECTION_FIELDS}
        self.short_names["amount"] = _("金额")
        more_rows = more_rows or {}
        self._skip_row = skip_row
        self.editors = {
            table.field: TableEditor(table, self._rows_of(table), more_rows.get(table.field, 0))
            for table in tables.TABLES
        }
        self.table_errors: dict[str, list[str]] = {}

    def _rows_of(self, table: tables.Table) -> list[dict[str, str]]:
        """The table's rows with something in them: as posted, else as stored."""
        if self.is_bound:
            posted = posted_rows(self.data, table)
            if self._skip_row and self._skip_row[0] == table.field:
                posted.pop(self._skip_row[1], None)
            return [posted[i] for i in sorted(posted) if not _is_blank(posted[i])]
        return [
            {column.key: _editor_value(column, row.get(column.key)) for column in table.columns}
            for row in self.initial.get(table.field) or []
        ]

    def add_service_error(self, name: str | None, message: str) -> None:
        """A problem the service found: on its field, beside its table, or at the top."""
        if name in self.editors:
            self.table_errors.setdefault(name, []).append(str(message))
            self.editors[name].errors.append(str(message))
            if not self.editors[name].row_errors:
                self.editors[name].find_row_errors()
        else:
            self.add_error(name if name in self.fields else None, message)

    def is_valid(self) -> bool:
        return super().is_valid() and not self.table_errors

    def error_summary(self) -> list[dict[str, str]]:
        items = super().error_summary()
        for name, messages in self.table_errors.items():
            label = str(self.editors[name].label)
            items += [{"id": f"id_{name}", "label": label, "message": m} for m in messages]
        return items

    def clean_amount(self) -> str:
        """What was typed, as the service takes it ("1751800.00"), or "" for nothing."""
        typed = self.cleaned_data.get("amount") or ""
        if not typed.strip():
            return ""
        try:
            return f"{parse_amount(typed, typed=True):.2f}"
        except AmountError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self) -> dict[str, Any]:
        """Every problem at once: what the service would say of the fields that passed the
        form's own checks is said now too (the service checks again when it saves)."""
        cleaned = super().clean() or {}
        for editor in self.editors.values():
            editor.errors, editor.row_errors = [], {}
        self.table_errors = {}
        data = self._content(cleaned)
        data.pop("amount", None)
        if cleaned.get("amount"):
            data["amount"] = cleaned["amount"]
        try:
            clean_content(data, partial=True)
        except InvalidInput as error:
            for name, problems in error.errors.items():
                if name in self.editors or (name in self.fields and name not in self.errors):
                    for problem in problems:
                        self.add_service_error(name, problem)
        return cleaned

    def _content(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in (*SECTION_FIELDS, *TARGET_FIELDS):
            if name in cleaned:
                data[name] = _normalise(cleaned[name])
        if cleaned.get("fiscal_year") is not None:
            data["fiscal_year"] = cleaned["fiscal_year"]
        for name in PROJECT_FIELDS:
            if name in cleaned:
                data[name] = cleaned[name]
        for name, editor in self.editors.items():
            data[name] = editor.sent()
        return data

    def amount_changed(self) -> bool:
        """Whether the amount typed differs from the one the form was opened with."""
        typed = self.cleaned_data.get("amount")
        shown = str(self.initial.get("amount") or "").strip()
        if not shown:
            return bool(typed)
        try:
            return parse_amount(shown, typed=True) != Decimal(typed or "0")
        except AmountError:
            return True

    def content(self) -> dict[str, Any]:
        """What the service is given: everything on the form. The amount only if it was
        filled in, and where the breakdown has rows only if the drafter changed it: else the
        service makes it the rows' total."""
        data = self._content(self.cleaned_data)
        if self.cleaned_data.get("amount") and (not data["breakdown"] or self.amount_changed()):
            data["amount"] = self.cleaned_data["amount"]
        return data

    def unchecked(self) -> "TextForm":
        """The bound form shown again as typed, with nothing checked: a row was added or
        removed without script, and nothing is saved yet."""
        self._errors = ErrorDict()
        self.cleaned_data = {}
        return self

    # --- the layout, for the template ----------------------------------------------------------

    def project_fields(self) -> list[BoundField]:
        return [self[name] for name in PROJECT_FIELDS]

    def blocks(self) -> list[dict[str, Any]]:
        """The sections in order, each with what follows it (submissions.layout): the amount
        and the breakdown after 六, the milestones after 七, the targets after 八."""
        from submissions.layout import AFTER_SECTION

        found = []
        for name in SECTION_FIELDS:
            after: list[dict[str, Any]] = []
            if name == "funding":
                after.append({"kind": "amount", "field": self["amount"]})
            for part in AFTER_SECTION.get(name, ()):
                if part in self.editors:
                    after.append({"kind": "table", "editor": self.editors[part]})
                else:
                    after.append({"kind": "field", "field": self[part]})
            found.append({"field": self[name], "after": after})
        return found

    def breakdown_differs(self) -> bool:
        """Whether the breakdown's rows add up to something other than the amount shown."""
        total = self.editors["breakdown"].total()
        shown = self["amount"].value()
        if total is None or not str(shown or "").strip():
            return False
        try:
            return parse_amount(str(shown), typed=True) != total
        except AmountError:
            return False

    def breakdown_total(self) -> str:
        total = self.editors["breakdown"].total()
        return "" if total is None else yuan_format() % {"amount": formatted(total)}

    def amount_format(self) -> str:
        """How an amount is written, for the script that adds up the breakdown."""
        return yuan_format() % {"amount": "%s"}


class ImportForm(SummarisedForm):
    file = forms.FileField(
        label=_("文件（.txt 或 .docx）"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".txt,.docx"}),
    )
