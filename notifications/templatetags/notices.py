"""The text page's tools (submissions/_text_tools.html): may this reader urge its reviewers
(催办) now, or did they already today. The rule is the service's (`urge_refusal`)."""

from typing import Any

from django import template

from submissions.models import ProjectText
from workflow.exceptions import WrongState
from workflow.permissions import Authority
from workflow.policy import TextFacts
from workflow.services.reminders import urge_refusal

register = template.Library()


@register.simple_tag(takes_context=True)
def urge_offer(context: Any, text: ProjectText) -> dict[str, bool]:
    """{"offer": the 催办 button, "done_today": already urged this working day}."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if text is None or user is None or not user.is_authenticated:
        return {"offer": False, "done_today": False}
    refusal = urge_refusal(Authority.of(user), text, TextFacts.of(text))
    done_today = isinstance(refusal, WrongState) and refusal.reason == "already_urged"
    return {"offer": refusal is None, "done_today": done_today}
