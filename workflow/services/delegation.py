"""委托: a reviewer lets a colleague act for them while they are away (DESIGN.md, "Delegation")."""

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from submissions.text_rules import unstorable_reason
from workflow import audit
from workflow.exceptions import InvalidInput, NotVisible, WrongState
from workflow.machine import catalog
from workflow.models import Delegation
from workflow.permissions import Authority, administers
from workflow.states import Administrator

REASON_MAX_CHARS = 500
LONGEST_DELEGATION_DAYS = 366


def _day(name: str, value: Any) -> date:
    day = value if isinstance(value, date) else None
    if isinstance(value, str):
        try:
            day = parse_date(value)
        except ValueError:
            day = None
    if day is None:
        raise InvalidInput({name: [_("应为日期，如 2025-03-01。")]})
    return day


def _reason(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput({"reason": [_("应为文本。")]})
    value = value.strip()
    if len(value) > REASON_MAX_CHARS:
        raise InvalidInput({"reason": [_("不能超过 %(n)d 个字符。") % {"n": REASON_MAX_CHARS}]})
    problem = unstorable_reason(value)
    if problem:
        raise InvalidInput({"reason": [problem]})
    return value


def delegable_roles(authority: Authority) -> list[str]:
    """The review roles a user holds in their own right (received rights are not passed on)."""
    return [role for role in catalog().review_roles if authority.scopes.get(role)]


def give(
    *,
    actor: AbstractBaseUser,
    to: Any,
    starts: Any,
    ends: Any,
    roles: Any = None,
    reason: Any = "",
) -> Delegation:
    """Let `to` (a username) act for `actor` in `roles` (default: all their review roles)
    from `starts` to `ends`, both inclusive, in the server's time zone."""
    delegate = (
        get_user_model().objects.filter(username=to, is_active=True).first()
        if isinstance(to, str)
        else None
    )
    if delegate is None:
        raise InvalidInput({"to": [_("没有这个用户。")]})
    if delegate.pk == actor.pk:
        raise InvalidInput({"to": [_("不能委托给自己。")]})
    if Authority.of(delegate).administrator:
        # 三员分立: an administrator acts on no text, not even for someone else.
        raise InvalidInput({"to": [_("不能委托给系统、安全或审计管理员。")]})
    first, last = _day("starts", starts), _day("ends", ends)
    if last < first:
        raise InvalidInput({"ends": [_("结束日期不能早于开始日期。")]})
    if last < timezone.localdate():
        raise InvalidInput({"ends": [_("结束日期已过。")]})
    if (last - first).days >= LONGEST_DELEGATION_DAYS:
        raise InvalidInput({"ends": [_("一次委托最长一年。")]})
    held = delegable_roles(Authority.of(actor))
    if roles is None:
        roles = held
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidInput({"roles": [_("应为角色代码的列表。")]})
    not_held = sorted(set(roles) - set(held))
    if not_held:
        raise InvalidInput(
            {"roles": [_("您本人不持有这些审核角色：%(r)s") % {"r": ", ".join(not_held)}]}
        )
    if not roles:
        raise InvalidInput({"roles": [_("您没有可以委托的审核角色。")]})
    return _give(actor, delegate, first, last, sorted(set(roles)), _reason(reason))


@transaction.atomic(durable=True)
def _give(actor, delegate, starts: date, ends: date, roles: list[str], reason: str) -> Delegation:
    delegation = Delegation.objects.create(
        delegator=actor, delegate=delegate, starts=starts, ends=ends, roles=roles, reason=reason
    )
    audit.record(
        stream=audit.user_stream(actor.pk),
        actor=actor,
        action="delegation_given",
        comment=reason,
        detail=_described(delegation),
    )
    return delegation


def _described(delegation: Delegation) -> dict[str, Any]:
    return {
        "delegation": delegation.pk,
        "from": delegation.delegator.get_username(),
        "to": delegation.delegate.get_username(),
        "starts": delegation.starts.isoformat(),
        "ends": delegation.ends.isoformat(),
        "roles": delegation.roles,
    }


@transaction.atomic(durable=True)
def revoke(*, actor: AbstractBaseUser, delegation_id: Any) -> Delegation:
    """End a delegation now: by its delegator or the security administrator (a delegation
    passes roles on, which is that administrator's to oversee)."""
    delegation = (
        Delegation.objects.select_for_update(of=("self",))
        .select_related("delegator", "delegate")
        .filter(pk=delegation_id if isinstance(delegation_id, int) else None)
        .first()
    )
    may = delegation is not None and (
        delegation.delegator_id == actor.pk or administers(actor, Administrator.SECURITY)
    )
    if not may:
        raise NotVisible("delegation_not_found")
    if delegation.revoked_at is not None:
        raise WrongState("delegation_revoked")
    delegation.revoked_at = timezone.now()
    delegation.revoked_by = actor
    delegation.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(
        stream=audit.user_stream(delegation.delegator_id),
        actor=actor,
        action="delegation_revoked",
        detail=_described(delegation),
    )
    return delegation


def is_active(delegation: Delegation, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return delegation.revoked_at is None and delegation.starts <= today <= delegation.ends
