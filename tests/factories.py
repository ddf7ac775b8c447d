"""Factories for tests: users with roles, departments, and texts moved along the workflow
through the real service (never by writing `state` directly)."""

from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from submissions.models import Department, ProjectText
from workflow import services
from workflow.states import Action, Role

PASSWORD = "test-pass-2025"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept{n}")
    name = factory.Sequence(lambda n: f"测试部门{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()


def make_user(
    username: str | None = None,
    role: Role | str | None = None,
    department: Department | None = None,
    **fields: Any,
):
    """A user holding `role` (for `department`, or for all departments when None)."""
    user = UserFactory(**({"username": username} if username else {}), **fields)
    if role is not None:
        services.grant_role(actor=None, user=user, role=role, department=department)
    return user


def sign_in_with_code(client: Any, user: Any) -> None:
    """Sign `user` in as someone with an authenticator is after giving its code (what
    `client.force_login` is to the password alone): for administrators outside the cast,
    who must have a second factor (workflow.twofactor)."""
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def text_fields(**overrides: Any) -> dict[str, Any]:
    """A complete text, ready to submit."""
    fields = {
        "title": "新平县村级组织换届工作经费",
        "basis": "依据《中国共产党章程》有关规定。",
        "implementer": "中共新平彝族傣族自治县委员会组织部。",
        "overview": "做好全县村（社区）党组织换届选举工作。",
        "content": "1.切实加强党的领导。\n2.树立正确的选人用人导向。",
        "funding": "安排1,751,800.00元，主要用于换届工作。",
        "amount": "1751800.00",
        "plan": "项目于2025年9月开展。",
        "outcomes": "按期圆满完成我县村级组织换届工作。",
        "fiscal_year": 2025,
    }
    fields.update(overrides)
    return fields


def make_text(drafter, department: Department, **overrides: Any) -> ProjectText:
    return services.create_text(
        actor=drafter, data=text_fields(**overrides), department_code=department.code
    )


def act(user, text: ProjectText, action: Action | str, comment: str = "", **kw: Any):
    """Take `action` with the text's current version, as `user` would from the page."""
    current = ProjectText.objects.get(pk=text.pk)
    return services.perform_action(
        actor=user,
        text_id=text.pk,
        action=action,
        version=current.version,
        comment=comment,
        **kw,
    )


def amount(value: str) -> Decimal:
    return Decimal(value)


def issue_token(username: str = "org_drafter", **extra: Any) -> str:
    """A new access token of `username` (who has the suite's password), from the API."""
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": username, "password": PASSWORD},
        format="json",
        **extra,
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def with_token(key: str) -> APIClient:
    """An API client that sends the access token `key`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client
