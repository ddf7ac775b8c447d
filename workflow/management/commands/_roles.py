"""Shared argument handling of grant_role and revoke_role."""

from argparse import ArgumentParser
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from submissions.models import Department
from workflow.exceptions import WorkflowError


class RoleCommand(BaseCommand):
    change: Callable[..., bool]
    done: str
    unchanged: str

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("user", help="username")
        # Not argparse choices: the role service knows every role (the built-in five, the
        # three administrators, and what loaded workflows declare) and names them if wrong.
        parser.add_argument(
            "role",
            help="a role: drafter, dept_reviewer, finance_reviewer, approver, auditor, "
            "system_admin, security_admin, audit_admin, or one a loaded workflow declares",
        )
        parser.add_argument("--department", help="department code, e.g. org")

    def handle(self, *args: Any, user: str, role: str, department: str | None, **options: Any):
        target = get_user_model().objects.filter(username=user).first()
        if target is None:
            raise CommandError(f"unknown user: {user}")
        dept = None
        if department is not None:
            dept = Department.objects.filter(code=department).first()
            if dept is None:
                raise CommandError(f"unknown department: {department}")
        try:
            changed = self.change(actor=None, user=target, role=role, department=dept)
        except WorkflowError as error:
            raise CommandError(error.message) from None
        where = department or "all departments"
        message = self.done if changed else self.unchanged
        self.stdout.write(message.format(user=user, role=role, where=where))
