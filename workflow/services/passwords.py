"""Changing a password, audited on the user's stream.

Two ways: the user, who proves the current password (`change_password`: the change page and
`POST /api/v1/me/password/`), or an administrator setting another's (`reset_password`: the
admin's password form). Either way the new password passes every rule of
AUTH_PASSWORD_VALIDATORS (workflow.passwords), and the password, its history record (kept by
the history validator's hook when the user is saved) and the `password_changed` event commit
together. A wrong current password changes nothing and is recorded as a refused attempt:
someone holding another's session may be guessing it.
"""

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from workflow import audit
from workflow.exceptions import InvalidInput, NotPermitted
from workflow.permissions import administers
from workflow.services.attempts import RefusedAttempt, record_refused, refuse_on_account
from workflow.services.tokens import AFTER_PASSWORD_CHANGE, revoke_user_tokens
from workflow.vocabulary import refusal_message

# An event's action and a refusal's reason (workflow.vocabulary), not passwords.
PASSWORD_CHANGED = "password_changed"  # noqa: S105
WRONG_OLD_PASSWORD = "wrong_old_password"  # noqa: S105


def _after_password_change(user: AbstractBaseUser, *, actor: AbstractBaseUser | None) -> None:
    """What else a new password ends, in the change's transaction: every token of the
    account, so that a script holding one signs in again with the new password."""
    revoke_user_tokens(user, actor=actor, reason=AFTER_PASSWORD_CHANGE)


def _save(
    *, actor: AbstractBaseUser | None, account: AbstractBaseUser, new: str | None, address: str
) -> None:
    """Set `new` (None: no password sign-in at all) on the locked `account` and record it,
    inside the caller's transaction. A new password must pass every rule first."""
    if new is None:
        account.set_unusable_password()
    else:
        try:
            password_validation.validate_password(new, account)
        except ValidationError as error:
            raise InvalidInput({"new_password": list(error.messages)}) from None
        account.set_password(new)
    # Saving calls the validators' password_changed hooks: the history is kept there.
    account.save(update_fields=["password"])
    audit.record(
        stream=audit.user_stream(account.pk),
        actor=actor,
        action=PASSWORD_CHANGED,
        detail={"user": account.get_username(), "address": address, "usable": new is not None},
    )
    _after_password_change(account, actor=actor)


def _locked(user: AbstractBaseUser) -> AbstractBaseUser:
    return get_user_model().objects.select_for_update().get(pk=user.pk)


def change_password(
    *, user: AbstractBaseUser, old: str, new: str, address: str
) -> AbstractBaseUser:
    """The user changes their own password, proving the current one. Returns the account as
    saved (its new hash: a signed-in session is kept with `update_session_auth_hash`).

    InvalidInput names the field: `old_password` (wrong), `new_password` (each rule broken).
    """
    with transaction.atomic(durable=True):
        account = _locked(user)
        if check_password(old, account.password):
            _save(actor=account, account=account, new=new, address=address)
            return account
    # Refused: recorded in a transaction of its own, after the one above changed nothing.
    record_refused(
        RefusedAttempt(
            stream=audit.user_stream(account.pk),
            source=audit.user_stream(account.pk),
            action=PASSWORD_CHANGED,
            actor=account,
            detail={
                "user": account.get_username(),
                "address": address,
                "reason": InvalidInput.code,
                "refusal": WRONG_OLD_PASSWORD,
                "params": {},
            },
        )
    )
    raise InvalidInput({"old_password": [refusal_message(WRONG_OLD_PASSWORD, {})]})


def reset_password(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, new: str | None, address: str
) -> AbstractBaseUser:
    """An administrator sets another user's password (no old one asked), or with `new=None`
    switches password sign-in off for the account. Returns the account as saved; a refused
    attempt is recorded on the account's stream."""
    if not administers(actor):
        refuse_on_account(
            NotPermitted("admin_only_accounts"),
            action=PASSWORD_CHANGED,
            actor=actor,
            user=user,
            address=address,
        )
    with transaction.atomic(durable=True):
        account = _locked(user)
        _save(actor=actor, account=account, new=new, address=address)
        return account
