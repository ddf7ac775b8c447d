"""Two-factor sign-in: enrolling an authenticator, recovery codes, checking a code, turning
it off. Each change is one transaction with its event on the user's stream; a wrong code is
a refused attempt, recorded within the refusal budget like a wrong password.

The authenticator is django-otp's TOTPDevice (RFC 6238: 6 digits, 30 s); the recovery codes
are one StaticDevice's tokens, each deleted when used.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from workflow import audit
from workflow.exceptions import InvalidInput, NotPermitted
from workflow.services.attempts import RefusedAttempt, record_refused, refuse_on_account
from workflow.twofactor import requires_second_factor

TWO_FACTOR_ENABLED = "two_factor_enabled"
TWO_FACTOR_DISABLED = "two_factor_disabled"
TWO_FACTOR_FAILED = "two_factor_failed"
RECOVERY_CODES_GENERATED = "recovery_codes_generated"
RECOVERY_CODE_USED = "recovery_code_used"

AUTHENTICATOR_NAME = "authenticator"
TOTP_DIGITS = 6  # TOTPDevice's default, which every authenticator here is made with
RECOVERY_NAME = "recovery"


def normalise_code(code: Any) -> str:
    """A code as typed: spaces and hyphens (people copy "123 456", "abcd-efgh") dropped,
    recovery codes in lower case as they are stored."""
    return "".join(str(code or "").split()).replace("-", "").lower()[:32]


def pending_authenticator(user: AbstractBaseUser) -> TOTPDevice:
    """The authenticator being set up: made once, so that reloading the enrolment page
    shows the same secret as the app already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def _new_recovery_codes(user: AbstractBaseUser) -> list[str]:
    """Replace the user's recovery codes with a fresh set (inside the caller's transaction)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def enable(*, user: AbstractBaseUser, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending authenticator with a code it made; returns it and the recovery
    codes, shown once. A wrong code changes nothing (InvalidInput naming `code`)."""
    with transaction.atomic(durable=True):
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None or not device.verify_token(normalise_code(code)):
            raise InvalidInput({"code": [_("验证码不正确，请输入认证器当前显示的 6 位数字。")]})
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        stream = audit.user_stream(user.pk)
        audit.record(stream=stream, actor=user, action=TWO_FACTOR_ENABLED)
        audit.record(
            stream=stream, actor=user, action=RECOVERY_CODES_GENERATED, detail={"count": len(codes)}
        )
    return device, codes


def regenerate_recovery_codes(*, user: AbstractBaseUser) -> list[str]:
    """A fresh set of recovery codes for an enrolled user; the old ones stop working."""
    with transaction.atomic(durable=True):
        if not TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).exists():
            raise InvalidInput({"code": [_("尚未启用两步验证。")]})
        codes = _new_recovery_codes(user)
        audit.record(
            stream=audit.user_stream(user.pk),
            actor=user,
            action=RECOVERY_CODES_GENERATED,
            detail={"count": len(codes)},
        )
    return codes


def disable(*, actor: AbstractBaseUser | None, user: AbstractBaseUser) -> bool:
    """Remove the user's authenticator and recovery codes; False if there were none.

    The user themself may only if their account does not require a second factor (refused
    and recorded otherwise); an administrator (or the command line) may for anyone, e.g.
    whose phone was lost: they then enrol again at their next sign-in.
    """
    from workflow.permissions import administers

    by_self = actor is not None and actor.pk == user.pk
    if by_self and requires_second_factor(user):
        refuse_on_account(
            NotPermitted("two_factor_required"),
            action=TWO_FACTOR_DISABLED,
            actor=actor,
            user=user,
        )
    if not by_self and not administers(actor):
        refuse_on_account(
            NotPermitted("admin_only_accounts"), action=TWO_FACTOR_DISABLED, actor=actor, user=user
        )
    with transaction.atomic(durable=True):
        removed = sum(
            model.objects.filter(user=user).delete()[0] for model in (TOTPDevice, StaticDevice)
        )
        if not removed:
            return False
        audit.record(stream=audit.user_stream(user.pk), actor=actor, action=TWO_FACTOR_DISABLED)
    return True


def verify_code(*, user: AbstractBaseUser, code: Any) -> Device | None:
    """The device that accepts `code` (the authenticator's 6 digits, or an unused recovery
    code, which is then used up and recorded), or None. A wrong code counts towards the
    device's own back-off (django-otp's throttling); the caller records the failure."""
    code = normalise_code(code)
    if not code:
        return None
    # The authenticator shows 6 digits; recovery codes are 8 letters and digits.
    model = TOTPDevice if len(code) == TOTP_DIGITS and code.isdigit() else StaticDevice
    with transaction.atomic(durable=True):
        device = (
            model.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("pk")
            .first()
        )
        if device is None or not device.verify_token(code):
            return None
        if model is StaticDevice:
            audit.record(
                stream=audit.user_stream(user.pk),
                actor=user,
                action=RECOVERY_CODE_USED,
                detail={"remaining": device.token_set.count()},
            )
    return device


def record_failed_code(
    *, user: AbstractBaseUser, address: str, path: str, missing: bool, locked: bool
) -> None:
    """A sign-in whose password was right but whose code was wrong or missing, on the
    account's stream, within the refusal budget (as a wrong password is)."""
    record_refused(
        RefusedAttempt(
            stream=audit.user_stream(user.pk),
            source="sign_in",
            action=TWO_FACTOR_FAILED,
            detail={
                "username": user.get_username(),
                "address": address,
                "path": path,
                "missing": missing,
                "locked": locked,
            },
        )
    )
