"""What every service needs: locking a visible text, checking the version, recording a
refused attempt in a transaction of its own."""

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from submissions.models import ProjectText
from submissions.text_rules import whole_number
from workflow import audit
from workflow.exceptions import InvalidInput, NotVisible, Refusal, StaleVersion
from workflow.locking import Locked, lock_text
from workflow.machine import Catalog
from workflow.permissions import Authority
from workflow.services import attempts

T = TypeVar("T")


def recording_refusals(action: str, attempt: Callable[[], T], **context: Any) -> T:
    try:
        return attempt()
    except Refusal as refusal:
        record_refusal(action=action, refusal=refusal, **context)
        raise


def record_refusal(
    *,
    action: str,
    refusal: Refusal,
    actor: AbstractBaseUser,
    text_id: Any = None,
    version: Any = None,
    comment: str = "",
) -> None:
    """Record a refused attempt (within its source's budget, see `attempts`).

    One the user could not even see goes on the user's own stream, naming the id asked
    for: whether such a text exists must not show in where, or how fast, it is recorded.
    """
    detail = {
        "reason": refusal.code,
        "refusal": refusal.reason,
        "params": refusal.params,
        "version": version,
    }
    if isinstance(refusal, NotVisible):
        if whole_number(text_id) is None:
            return  # not an id any text could have: bad input, not an attempt on a text
        attempts.record_refused(
            attempts.RefusedAttempt(
                stream=audit.user_stream(actor.pk),
                source="not_visible",
                action=action,
                actor=actor,
                comment=comment,
                detail={**detail, "requested_text": str(text_id)},
            )
        )
        return
    if refusal.text_id is None:
        return  # nothing of ours was touched
    text = (
        ProjectText.objects.filter(pk=refusal.text_id)
        .values("state", "revision", "department__code")
        .first()
    )
    if text is None:
        return
    attempts.record_refused(
        attempts.RefusedAttempt(
            stream=audit.text_stream(refusal.text_id),
            source=audit.user_stream(actor.pk),
            action=action,
            actor=actor,
            text_id=refusal.text_id,
            department=text["department__code"],
            from_state=text["state"],
            revision=text["revision"] or None,
            comment=comment,
            detail=detail,
        )
    )


def lock_visible(authority: Authority, text_id: Any, *, known: Catalog | None = None) -> Locked:
    """Lock the text's row for this transaction, with its facts; 404 for unknown and
    invisible alike.

    Visibility is decided on the locked row, from the facts read after the lock is held
    (`workflow.locking`): a text that moved on while the lock was awaited is judged as it
    is now. A missing id costs the same two statements as an invisible text, so that the
    cost does not tell that it exists.
    """
    pk = whole_number(text_id)
    if pk is None:
        raise NotVisible("text_not_found")
    locked = lock_text(authority, pk, known=known)
    if locked is None or not locked.visible:
        raise NotVisible("text_not_found")
    return locked


def lock_visible_text(authority: Authority, text_id: Any) -> ProjectText:
    """`lock_visible`, for a service that needs only the text."""
    return lock_visible(authority, text_id).text


def check_version(text: ProjectText, version: Any) -> None:
    if version != text.version:
        raise StaleVersion(
            "stale_version", text_id=text.pk, seen=version, current_version=text.version
        )


def require_version(version: Any) -> int:
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInput({"version": [_("必须提供整数 version（您看到的版本号）。")]})
    return version


def jsonable(value: Any) -> Any:
    """A content value as the audit log stores it: amounts as strings, dates in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
