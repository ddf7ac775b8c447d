"""Forms of the pages: rendering and type checks only; the rules live in workflow.services."""

import datetime
from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from submissions.amounts import AmountError, parse_amount
from submissions.content import SECTION_FIELDS, clean_content, section_heading, section_label
from submissions.errors import InvalidInput

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


class TextForm(SummarisedForm):
    """The eight sections of the sample, the amount and the fiscal year."""

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

    def __init__(self, *args: Any, departments: list[tuple[str, str]] | None = None, **kwargs):
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
        # The amount belongs beside 六、资金安排情况.
        order = ["version", "department", "fiscal_year"]
        order += [*SECTION_FIELDS[:6], "amount", *SECTION_FIELDS[6:]]
        self.order_fields(order)
        self.short_names = {name: section_label(name) for name in SECTION_FIELDS}
        self.short_names["amount"] = _("金额")

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
        data = {name: _normalise(cleaned[name]) for name in SECTION_FIELDS if name in cleaned}
        for name in ("fiscal_year", "amount"):
            if cleaned.get(name) not in (None, ""):
                data[name] = cleaned[name]
        try:
            clean_content(data, partial=True)
        except InvalidInput as error:
            for name, problems in error.errors.items():
                if name in self.fields and name not in self.errors:
                    for problem in problems:
                        self.add_error(name, problem)
        return cleaned

    def content(self) -> dict[str, Any]:
        """What the service is given: every section, the year and (if filled in) the amount."""
        data: dict[str, Any] = {
            name: _normalise(self.cleaned_data[name]) for name in SECTION_FIELDS
        }
        data["fiscal_year"] = self.cleaned_data["fiscal_year"]
        if self.cleaned_data.get("amount"):
            data["amount"] = self.cleaned_data["amount"]
        return data


class ImportForm(SummarisedForm):
    file = forms.FileField(
        label=_("文件（.txt 或 .docx）"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".txt,.docx"}),
    )
