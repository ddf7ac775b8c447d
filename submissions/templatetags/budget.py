"""Template filters for budget texts."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def yuan(amount: Decimal | str | None) -> str:
    """1751800 -> "1,751,800.00元", the way the sample writes amounts."""
    if amount in (None, ""):
        return ""
    return _("%(amount)s元") % {"amount": f"{Decimal(amount):,.2f}"}
