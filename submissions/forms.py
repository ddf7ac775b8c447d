"""Forms of the pages: rendering and type checks only; the rules live in workflow.services."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from submissions.content import SECTION_FIELDS, section_heading


def _normalise(value: str) -> str:
    """Browsers send textarea line breaks as CRLF; the sample and the service use LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


class TextForm(forms.Form):
    """The eight sections of the sample, the amount and the fiscal year."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    department = forms.ChoiceField(label=_("部门"), required=False)
    fiscal_year = forms.IntegerField(label=_("预算年度"), min_value=0, max_value=9999)
    amount = forms.CharField(label=_("金额（元）"), required=False, max_length=40)

    def __init__(self, *args: Any, departments: list[tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments and len(departments) > 1:
            self.fields["department"].choices = [("", "---------"), *departments]
        else:
            del self.fields["department"]
        for index, name in enumerate(SECTION_FIELDS):
            widget = forms.TextInput if name == "title" else forms.Textarea
            self.fields[name] = forms.CharField(
                label=section_heading(index), required=False, strip=False, widget=widget
            )
        # The amount belongs beside 六、资金安排情况.
        order = ["version", "department", "fiscal_year"]
        order += [*SECTION_FIELDS[:6], "amount", *SECTION_FIELDS[6:]]
        self.order_fields(order)

    def content(self) -> dict[str, Any]:
        """What the service is given: every section, the year and (if filled in) the amount."""
        data: dict[str, Any] = {
            name: _normalise(self.cleaned_data[name]) for name in SECTION_FIELDS
        }
        data["fiscal_year"] = self.cleaned_data["fiscal_year"]
        amount = (self.cleaned_data.get("amount") or "").strip()
        if amount:
            data["amount"] = amount
        return data


class ImportForm(forms.Form):
    file = forms.FileField(label=_("文件（.txt 或 .docx）"))
