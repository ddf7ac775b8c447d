from typing import Any

from django.core.management.base import BaseCommand, CommandError

from workflow import audit


class Command(BaseCommand):
    help = (
        "Recompute the audit log's hash chains; exit non-zero naming the first bad event. "
        "The result is kept and shown on the audit page."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit.verify_and_keep()
        if not result.ok:
            where = f"first bad event: #{result.first_bad}" if result.first_bad else "no event id"
            raise CommandError(f"audit log FAILED ({where}): {result.detail}")
        self.stdout.write(f"audit log OK: {result.checked} events verified")
