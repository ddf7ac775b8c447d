from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflow import audit


class Command(BaseCommand):
    help = (
        "Recompute the whole audit log's hash chains and check them against the checkpoints "
        "and the checkpoint file; exit non-zero naming the first bad event. Says which events "
        "no seal covers yet. The result is kept and shown on the audit page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--jobs",
            type=int,
            default=1,
            help="walk the streams in this many processes at once (PostgreSQL; default 1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["jobs"] < 1:
            raise CommandError("--jobs must be 1 or more")
        verification, result = audit.verify_fully(jobs=options["jobs"])
        unsealed = result.unsealed_summary()
        if not verification.ok:
            where = (
                f"first bad event: #{verification.first_bad}"
                if verification.first_bad
                else "no event id"
            )
            message = f"audit log FAILED ({where}): {verification.detail}"
            raise CommandError(f"{message}\n{unsealed}" if unsealed else message)
        self.stdout.write(f"audit log OK: {verification.checked} events verified")
        # An event is only as trustworthy as the newest seal that covers it.
        self.stdout.write(unsealed or "every event is covered by a seal")
