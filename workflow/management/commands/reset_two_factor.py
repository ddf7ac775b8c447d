from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflow.services import twofactor


class Command(BaseCommand):
    help = (
        "Remove USER's authenticator and recovery codes (a lost phone): audited as "
        "two_factor_disabled. Someone who must have a second factor enrols again at the next "
        "sign-in."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="username")

    def handle(self, *args: Any, user: str, **options: Any) -> None:
        target = get_user_model().objects.filter(username=user).first()
        if target is None:
            raise CommandError(f"unknown user: {user}")
        removed = twofactor.disable(actor=None, user=target)
        self.stdout.write(f"two-factor sign-in reset for {user}" if removed else "unchanged")
