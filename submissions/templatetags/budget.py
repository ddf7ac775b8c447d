"""Template filters for budget texts."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from submissions import content
from submissions.content import SECTION_FIELDS
from workflow.models import Outcome
from workflow.states import Action, State

register = template.Library()


@register.filter
def yuan(amount: Decimal | str | None) -> str:
    """1751800 -> "1,751,800.00元", the way the sample writes amounts."""
    if amount in (None, ""):
        return ""
    return _("%(amount)s元") % {"amount": f"{Decimal(amount):,.2f}"}


_EVENT_LABELS = {
    "create": gettext_lazy("新建"),
    "edit": gettext_lazy("修改内容"),
    "import": gettext_lazy("导入"),
    "remind": gettext_lazy("到期提醒"),
    "escalate": gettext_lazy("逾期上报"),
    "grant_text_access": gettext_lazy("共享文本"),
    "revoke_text_access": gettext_lazy("取消共享"),
}


@register.filter
def section_label(field: str) -> str:
    """ "funding" -> "资金安排情况": a section's heading in the sample's words."""
    if field in SECTION_FIELDS or field == "amount":
        return content.section_label(field)
    return field or ""


@register.filter
def action_label(action: str) -> str:
    """A workflow action or audit event name in the user's language."""
    if action in Action.values:
        return str(Action(action).label)
    return str(_EVENT_LABELS.get(action, action))


@register.filter
def state_label(state: str) -> str:
    return str(State(state).label) if state in State.values else (state or "")


@register.filter
def outcome_label(outcome: str) -> str:
    return str(Outcome(outcome).label) if outcome in Outcome.values else outcome
