"""What every service needs: locking a visible text, checking the version, recording a
refused attempt in a transaction of its own."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from submissions.models import ProjectText
from workflow import audit
from workflow.exceptions import InvalidInput, NotVisible, Refusal, StaleVersion
from workflow.models import Outcome
from workflow.permissions import Authority, can_see

T = TypeVar("T")


def recording_refusals(action: str, attempt: Callable[[], T], **context: Any) -> T:
    try:
        return attempt()
    except Refusal as refusal:
        record_refusal(action=action, refusal=refusal, **context)
        raise


@transaction.atomic(durable=True)
def record_refusal(
    *, action: str, refusal: Refusal, actor: AbstractBaseUser, version: Any = None, comment=""
) -> None:
    if refusal.text_id is None:
        return  # nothing of ours was touched: an unknown id
    text = (
        ProjectText.objects.filter(pk=refusal.text_id)
        .values("state", "revision", "department__code")
        .first()
    )
    if text is None:
        return
    audit.record(
        stream=audit.text_stream(refusal.text_id),
        actor=actor,
        action=action,
        outcome=Outcome.REFUSED,
        text_id=refusal.text_id,
        department=text["department__code"],
        from_state=text["state"],
        revision=text["revision"] or None,
        comment=comment,
        detail={"reason": refusal.code, "message": refusal.message, "version": version},
    )


def lock_visible_text(authority: Authority, text_id: Any) -> ProjectText:
    """Lock the text's row for this transaction; 404 for unknown and invisible alike."""
    try:
        text = (
            ProjectText.objects.select_for_update(of=("self",))
            .select_related("department", "created_by")
            .get(pk=int(text_id))
        )
    except (ProjectText.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotVisible(_("项目文本不存在。")) from None
    if not can_see(authority, text):
        raise NotVisible(_("项目文本不存在。"), text_id=text.pk)
    return text


def check_version(text: ProjectText, version: Any) -> None:
    if version != text.version:
        raise StaleVersion(
            _("版本已过期：您看到的是第 %(seen)s 版，当前为第 %(current)s 版，请刷新后重试。")
            % {"seen": version, "current": text.version},
            text_id=text.pk,
            current_version=text.version,
        )


def require_version(version: Any) -> int:
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInput({"version": [_("必须提供整数 version（您看到的版本号）。")]})
    return version


def jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value
