"""Who must sign in with a second factor (TOTP, or a recovery code), and whether a session
has given one. The one place that says so: the sign-in pages, the middleware that holds back
a session, the admin site and the token endpoint all ask here.

Administrators (staff, superusers and the 三员分立 administrators' groups) and auditors must;
everyone else may. Whoever has a confirmed device must give a code at every sign-in, whether
or not they have to have one.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django_otp.plugins.otp_totp.models import TOTPDevice

from submissions.demo_content import DEMO_USERS
from workflow.states import ADMINISTRATOR_ROLES, Role

# Groups whose members must have a second factor, besides staff and superusers: auditors
# and the three administrators (三员分立).
SECOND_FACTOR_GROUPS = ADMINISTRATOR_ROLES | {Role.AUDITOR.value}


def demo_exempt(user: AbstractBaseUser) -> bool:
    """One of seed_demo's users in the demo (TWO_FACTOR_EXEMPT_DEMO_USERS, which settings
    turn on only with DEMO_MODE): they sign in with their password alone, as the README's
    commands and users' scripts against the demo do."""
    if not settings.TWO_FACTOR_EXEMPT_DEMO_USERS:
        return False
    return user.get_username() in DEMO_USERS


def requires_second_factor(user: AbstractBaseUser) -> bool:
    """Must this account have a second factor before it may do anything?"""
    if not user.is_authenticated or demo_exempt(user):
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.filter(name__in=SECOND_FACTOR_GROUPS).exists()


def is_enrolled(user: AbstractBaseUser) -> bool:
    """Has a confirmed authenticator: a code is asked for at every sign-in."""
    return user.is_authenticated and TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_satisfied(user: AbstractBaseUser) -> bool:
    """Has this signed-in user (as django-otp's middleware left them) done what their sign-in
    needs: given a code, or neither has a device nor needs one?"""
    if getattr(user, "otp_device", None) is not None:
        return True
    return not is_enrolled(user) and not requires_second_factor(user)
