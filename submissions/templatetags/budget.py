"""Template filters for budget texts."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

from submissions import content
from submissions.content import SECTION_FIELDS
from submissions.lifecycle import FIXED_STATES
from workflow import vocabulary
from workflow.machine import version_of
from workflow.models import Outcome

register = template.Library()


@register.filter
def yuan(amount: Decimal | str | None) -> str:
    """1751800 -> "1,751,800.00元", the way the sample writes amounts."""
    if amount in (None, ""):
        return ""
    return _("%(amount)s元") % {"amount": f"{Decimal(amount):,.2f}"}


@register.filter
def section_label(field: str) -> str:
    """ "funding" -> "资金安排情况": a section's heading in the sample's words."""
    if field in SECTION_FIELDS or field == "amount":
        return content.section_label(field)
    return field or ""


@register.filter
def action_label(action: str) -> str:
    """A workflow action or audit event name in the user's language."""
    return vocabulary.event_label(action)


@register.filter
def state_label(state: str, version_id: int | None = None) -> str:
    return vocabulary.state_label(state, version_id)


@register.filter
def text_state(text) -> str:
    """A text's state, named in the words of the workflow version it follows."""
    if text.state in FIXED_STATES:
        return vocabulary.state_label(text.state)
    return vocabulary.state_label(text.state, version_of(text))


@register.filter
def outcome_label(outcome: str) -> str:
    return str(Outcome(outcome).label) if outcome in Outcome.values else outcome


@register.filter
def event_note(detail: dict) -> str:
    """What a refused attempt's event says, in the reader's language."""
    return vocabulary.event_note(detail) if isinstance(detail, dict) else ""


@register.filter
def stage_names(codes: list[str]) -> str:
    """Stage codes (e.g. the stages an approval skipped) as their names."""
    return "、".join(vocabulary.state_label(code) for code in codes or [])


@register.filter
def role_names(codes: list[str]) -> str:
    """Role codes as the names people know them by."""
    return "、".join(vocabulary.role_label(code) for code in codes or [])


@register.filter
def state_kind(state: str) -> str:
    """What a state means to a reader, for its colour: "draft", "returned", "approved",
    "rejected", or "review" for every stage of every workflow version."""
    return state if state in FIXED_STATES else "review"
