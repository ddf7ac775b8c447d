"""The password rules, in Django's validator framework (AUTH_PASSWORD_VALIDATORS), and how
old a user's password is.

- `CharacterClassValidator`: at least PASSWORD_MIN_LENGTH characters, from at least
  PASSWORD_MIN_CLASSES of four classes (lower case, upper case, digits, symbols).
- `PasswordHistoryValidator`: none of the last PASSWORD_HISTORY passwords again (the
  current one included). Its `password_changed` hook, which Django calls whenever a
  password is saved, whichever way, keeps the history (`PasswordRecord`); expiry reads the
  newest record, so this validator stays in AUTH_PASSWORD_VALIDATORS even with
  PASSWORD_HISTORY=0.
- `password_expired`: PASSWORD_MAX_AGE_DAYS after a password was set (0: never).

The validators' settings are read when they run, not when they are built (Django builds
them once per process), so that a changed setting holds at once.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from workflow.models import PasswordRecord

CHARACTER_CLASSES = 4


def character_classes(password: str) -> int:
    """How many of the four classes `password` draws on. A character that is neither a
    cased letter nor a digit (punctuation, a space, a Chinese character) counts as a symbol."""
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    symbol = any(not (c.islower() or c.isupper() or c.isdigit()) for c in password)
    return lower + upper + digit + symbol


class CharacterClassValidator:
    """Length and character classes, with the settings' numbers."""

    @property
    def min_length(self) -> int:
        return settings.PASSWORD_MIN_LENGTH

    @property
    def min_classes(self) -> int:
        return min(settings.PASSWORD_MIN_CLASSES, CHARACTER_CLASSES)

    def validate(self, password: str, user: AbstractBaseUser | None = None) -> None:
        errors = []
        if len(password) < self.min_length:
            errors.append(
                ValidationError(
                    ngettext(
                        "密码太短：至少需要 %(min_length)d 个字符。",
                        "密码太短：至少需要 %(min_length)d 个字符。",
                        self.min_length,
                    ),
                    code="password_too_short",
                    params={"min_length": self.min_length},
                )
            )
        if character_classes(password) < self.min_classes:
            errors.append(
                ValidationError(
                    _(
                        "密码的字符种类太少：小写字母、大写字母、数字、符号四类中"
                        "至少要有 %(min_classes)d 类。"
                    ),
                    code="password_too_few_classes",
                    params={"min_classes": self.min_classes},
                )
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return _(
            "密码至少 %(min_length)d 个字符，且包含小写字母、大写字母、数字、符号四类中的"
            "至少 %(min_classes)d 类。"
        ) % {"min_length": self.min_length, "min_classes": self.min_classes}


def _newest_records(user: AbstractBaseUser, count: int) -> list[PasswordRecord]:
    return list(PasswordRecord.objects.filter(user=user).order_by("-changed_at", "-id")[:count])


class PasswordHistoryValidator:
    """No reuse of the last PASSWORD_HISTORY passwords; keeps the history they are read from."""

    @property
    def remembered(self) -> int:
        return max(settings.PASSWORD_HISTORY, 0)

    def _recent_hashes(self, user: AbstractBaseUser) -> list[str]:
        """The hashes of the user's last `remembered` passwords, the current one first. An
        account whose password was set before the history was kept has only its current one."""
        if not self.remembered:
            return []
        hashes = [record.password for record in _newest_records(user, self.remembered)]
        current = user.password
        if current and current not in hashes:
            hashes = [current, *hashes][: self.remembered]
        return hashes

    def validate(self, password: str, user: AbstractBaseUser | None = None) -> None:
        if user is None or user.pk is None:
            return  # a new account has no history
        for hashed in self._recent_hashes(user):
            if check_password(password, hashed):
                raise ValidationError(
                    ngettext(
                        "不能使用最近 %(count)d 次用过的密码，请换一个新密码。",
                        "不能使用最近 %(count)d 次用过的密码，请换一个新密码。",
                        self.remembered,
                    ),
                    code="password_reused",
                    params={"count": self.remembered},
                )

    def password_changed(self, password: str, user: AbstractBaseUser | None = None) -> None:
        """Remember the new password's hash (already in `user.password`) and forget those
        beyond the history: old hashes are kept no longer than the rule needs them."""
        if user is None or user.pk is None or not user.has_usable_password():
            return
        PasswordRecord.objects.create(user=user, password=user.password)
        keep = _newest_records(user, max(self.remembered, 1))
        PasswordRecord.objects.filter(user=user).exclude(
            pk__in=[record.pk for record in keep]
        ).delete()

    def get_help_text(self) -> str:
        if not self.remembered:
            return ""
        return ngettext(
            "不能与最近 %(count)d 次用过的密码相同。",
            "不能与最近 %(count)d 次用过的密码相同。",
            self.remembered,
        ) % {"count": self.remembered}


def password_set_at(user: AbstractBaseUser) -> Any:
    """When the user's current password was set: its newest record, or, for an account
    whose password was set before records were kept, when the account was made."""
    record = (
        PasswordRecord.objects.filter(user=user)
        .order_by("-changed_at", "-id")
        .values_list("changed_at", flat=True)
        .first()
    )
    return record or getattr(user, "date_joined", None)


def password_expired(user: AbstractBaseUser | None) -> bool:
    """True when expiry is on and the user's password is older than PASSWORD_MAX_AGE_DAYS.
    Costs no query while expiry is off (the default)."""
    days = settings.PASSWORD_MAX_AGE_DAYS
    if days <= 0 or user is None or not user.is_authenticated:
        return False
    set_at = password_set_at(user)
    return set_at is not None and set_at <= timezone.now() - timedelta(days=days)


def expiry_message() -> str:
    days = settings.PASSWORD_MAX_AGE_DAYS
    return ngettext(
        "您的密码已超过 %(days)d 天未修改，已经过期。请先修改密码，再继续使用本系统。",
        "您的密码已超过 %(days)d 天未修改，已经过期。请先修改密码，再继续使用本系统。",
        days,
    ) % {"days": days}
