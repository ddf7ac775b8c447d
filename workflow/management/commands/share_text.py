from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflow import services
from workflow.exceptions import WorkflowError


class Command(BaseCommand):
    help = (
        "Share one text with USER: --access change makes them a co-drafter of it, "
        "--access view lets them read it; --revoke takes it back. Audited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("text", type=int, help="text id")
        parser.add_argument("user", help="username")
        parser.add_argument("--access", choices=["change", "view"], default="change")
        parser.add_argument("--revoke", action="store_true")

    def handle(self, *args: Any, text: int, user: str, access: str, revoke: bool, **options):
        target = get_user_model().objects.filter(username=user).first()
        if target is None:
            raise CommandError(f"unknown user: {user}")
        change = services.revoke_text_access if revoke else services.grant_text_access
        try:
            changed = change(actor=None, user=target, text_id=text, access=access)
        except WorkflowError as error:
            raise CommandError(error.message) from None
        verb = "revoked" if revoke else "granted"
        self.stdout.write(f"{verb} {access} on text #{text} for {user}" if changed else "unchanged")
