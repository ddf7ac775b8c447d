"""Issuing and revoking scripts' access tokens, audited on the owner's stream.

`issue_token` is the token endpoint's sign-in: the `sign_in` event (way in: token) and the
`token_issued` event commit with the token. `revoke_token` is for its owner and for an
administrator; `revoke_user_tokens` ends every token of an account (deactivation, a password
change), in the caller's transaction. Each revocation is a `token_revoked` event naming the
token (its id and first characters, never the key) and the reason.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from workflow import audit, tokens
from workflow.exceptions import NotVisible, WrongState
from workflow.models import AccessToken
from workflow.permissions import administers
from workflow.services.signin import WAY_TOKEN, record_sign_in

ISSUED = "token_issued"
REVOKED = "token_revoked"
# Why a token was revoked (workflow.vocabulary.TOKEN_REVOCATION_REASONS words them).
BY_OWNER = "owner"
BY_ADMINISTRATOR = "administrator"
ACCOUNT_DEACTIVATED = "account_deactivated"
AFTER_PASSWORD_CHANGE = "password_changed"  # noqa: S105 - a reason, not a password
LABEL_CHARS = 200


def _described(token: AccessToken) -> dict[str, Any]:
    return {"token": token.pk, "prefix": token.prefix}


@transaction.atomic(durable=True)
def issue_token(
    *, user: AbstractBaseUser, address: str, path: str, label: str = ""
) -> tuple[AccessToken, str]:
    """A new token for `user`, whose password was just checked; returns it and its key (the
    only time the key exists outside the client). Each call issues another: a person may run
    several scripts."""
    key = tokens.new_key()
    # Whatever the client called itself (its User-Agent), as far as it can be shown.
    label = "".join(c for c in label[: LABEL_CHARS * 2] if c.isprintable())[:LABEL_CHARS]
    token = AccessToken.objects.create(
        user=user,
        key_hash=tokens.digest(key),
        prefix=key[: tokens.PREFIX_CHARS],
        label=label,
        address=address[:64],
    )
    record_sign_in(user=user, address=address, way=WAY_TOKEN, path=path)
    audit.record(
        stream=audit.user_stream(user.pk),
        actor=user,
        action=ISSUED,
        detail={**_described(token), "address": address, "label": token.label},
    )
    return token, key


def _revoke(token: AccessToken, *, actor: AbstractBaseUser | None, reason: str) -> None:
    token.revoked_at = timezone.now()
    token.revoked_reason = reason
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_reason", "revoked_by"])
    audit.record(
        stream=audit.user_stream(token.user_id),
        actor=actor,
        action=REVOKED,
        detail={**_described(token), "reason": reason},
    )


@transaction.atomic(durable=True)
def revoke_token(*, actor: AbstractBaseUser | None, token_id: Any) -> AccessToken:
    """End one token now: by its owner, or an administrator (anyone else: 404)."""
    token = (
        AccessToken.objects.select_for_update()
        .filter(pk=token_id if isinstance(token_id, int) else None)
        .first()
    )
    own = token is not None and actor is not None and token.user_id == actor.pk
    if token is None or not (own or administers(actor)):
        raise NotVisible("token_not_found")
    if token.revoked_at is not None:
        raise WrongState("token_already_revoked")
    _revoke(token, actor=actor, reason=BY_OWNER if own else BY_ADMINISTRATOR)
    return token


@transaction.atomic
def revoke_user_tokens(
    user: AbstractBaseUser, *, actor: AbstractBaseUser | None, reason: str
) -> int:
    """End every token of `user` not yet revoked (expired ones too: a longer limit set later
    must not bring them back), each audited with `reason`; in the caller's transaction when
    there is one. Returns how many."""
    revoked = 0
    for token in (
        AccessToken.objects.select_for_update()
        .filter(user_id=user.pk, revoked_at__isnull=True)
        .order_by("id")
    ):
        _revoke(token, actor=actor, reason=reason)
        revoked += 1
    return revoked


def note_use(token: AccessToken) -> None:
    """Remember that the token was used now, at most once a minute (bookkeeping for its idle
    limit, not an event: one write a minute per token, none per request)."""
    now = timezone.now()
    if now - token.last_used_at < tokens.USE_RESOLUTION:
        return
    AccessToken.objects.filter(pk=token.pk, last_used_at__lt=now - tokens.USE_RESOLUTION).update(
        last_used_at=now
    )
    token.last_used_at = now
