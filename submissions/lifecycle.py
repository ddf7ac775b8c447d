"""The states and actions every project text has, whatever workflow routes it.

A text is drafted, submitted, and ends approved or rejected; between submit and the end it
waits at the review stages of the workflow version it was submitted under, whose codes are
its `state` then (`workflow.machine`). Only these fixed ones are known here.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FixedState(models.TextChoices):
    DRAFT = "draft", _("编制中")
    RETURNED = "returned", _("退回修改")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("不予立项")


class FixedAction(models.TextChoices):
    SUBMIT = "submit", _("提交")
    WITHDRAW = "withdraw", _("撤回")
    RETURN = "return", _("退回")
    REJECT = "reject", _("不予立项")


FIXED_STATES = frozenset(FixedState.values)
FIXED_ACTIONS = frozenset(FixedAction.values)
EDITABLE_STATES = (FixedState.DRAFT, FixedState.RETURNED)
FINAL_STATES = (FixedState.APPROVED, FixedState.REJECTED)
