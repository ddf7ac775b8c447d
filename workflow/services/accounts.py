"""Creating accounts and changing their details and privileges, audited: the system
administrator's job (三员分立), or the command line's.

Being active, staff or a superuser is a privilege: it changes only here, whatever screen
asks, in one transaction with its event on the user's stream naming each field's before and
after. The superuser flag grants no role and none of the three administrators' jobs (the
product's checks never read it); it stays settable so that Django's `createsuperuser` works.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from workflow import audit
from workflow.exceptions import InvalidInput, NotPermitted
from workflow.permissions import administers
from workflow.services.attempts import refuse_on_account
from workflow.services.tokens import ACCOUNT_DEACTIVATED, revoke_user_tokens
from workflow.states import Administrator

# What an account is: its name and contact, and its privileges.
DETAILS = ("username", "first_name", "last_name", "email")
PRIVILEGES = ("is_active", "is_staff", "is_superuser")
ACCOUNT_FIELDS = (*DETAILS, *PRIVILEGES)
CREATE_ACCOUNT = "create_account"
CHANGE_ACCOUNT = "change_account"


def _not_an_administrator() -> NotPermitted:
    return NotPermitted("admin_only_accounts")


def _check_fields(changes: dict[str, Any]) -> None:
    errors = {name: [_("不能设置此字段。")] for name in changes if name not in ACCOUNT_FIELDS}
    errors.update(
        {
            name: [_("应为 true 或 false。")]
            for name in PRIVILEGES
            if name in changes and not isinstance(changes[name], bool)
        }
    )
    if errors:
        raise InvalidInput(errors)


def create_account(*, actor: AbstractBaseUser | None, user: AbstractBaseUser) -> AbstractBaseUser:
    """Save a new account (`user`, not yet saved, its password already set) and record it."""
    if not administers(actor, Administrator.SYSTEM):
        raise _not_an_administrator()
    with transaction.atomic(durable=True):
        user.save(force_insert=True)
        audit.record(
            stream=audit.user_stream(user.pk),
            actor=actor,
            action=CREATE_ACCOUNT,
            changes={name: [None, getattr(user, name)] for name in ACCOUNT_FIELDS},
        )
    return user


def change_account(
    *, actor: AbstractBaseUser | None, user_id: int, changes: dict[str, Any]
) -> bool:
    """Change an account's details and privileges; False when nothing changed.

    Only by the system administrator; a refused attempt is recorded on the account's stream.
    """
    _check_fields(changes)
    with transaction.atomic(durable=True):
        user = get_user_model().objects.select_for_update().get(pk=user_id)
        changed = {
            name: [getattr(user, name), value]
            for name, value in changes.items()
            if getattr(user, name) != value
        }
        if not changed:
            return False
        if administers(actor, Administrator.SYSTEM):
            for name, (_before, after) in changed.items():
                setattr(user, name, after)
            user.save(update_fields=list(changed))
            audit.record(
                stream=audit.user_stream(user.pk),
                actor=actor,
                action=CHANGE_ACCOUNT,
                changes=changed,
            )
            if changed.get("is_active") == [True, False]:
                # A deactivated account's scripts stop with it, not at their tokens' expiry.
                revoke_user_tokens(user, actor=actor, reason=ACCOUNT_DEACTIVATED)
            return True
    # Refused: recorded in a transaction of its own, after the one above changed nothing.
    refuse_on_account(
        _not_an_administrator(),
        action=CHANGE_ACCOUNT,
        actor=actor,
        user=user,
        fields=sorted(changed),
    )
