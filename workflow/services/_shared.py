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
from workflow.permissions import Authority
from workflow.policy import visible_texts
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


def lock_visible_text(authority: Authority, text_id: Any) -> ProjectText:
    """Lock the text's row for this transaction; 404 for unknown and invisible alike.

    Visibility is part of the locking query, so that a text the user may not see costs
    exactly the statements a missing id costs: the timing does not tell that it exists.
    A query that waited for the lock re-checks the row that moved on under it, but
    PostgreSQL evaluates its subqueries (a decision at a stage) against the snapshot taken
    before the wait: a text that moved to the next stage meanwhile would seem invisible.
    So a miss is asked once more, with a fresh snapshot; missing ids are asked twice too.
    """
    pk = whole_number(text_id)
    if pk is None:
        raise NotVisible("text_not_found")
    for _attempt in range(2):
        text = (
            visible_texts(authority)
            .select_for_update(of=("self",))
            .select_related("department", "created_by", "route")
            .filter(pk=pk)
            .first()
        )
        if text is not None:
            return text
    raise NotVisible("text_not_found")


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
