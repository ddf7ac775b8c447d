from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflow import services
from workflow.exceptions import WorkflowError


class Command(BaseCommand):
    help = (
        "Move the texts in flight under other versions of workflow CODE to version --to; "
        "refused, naming them, if a text waits at a stage that version lacks. Audited per text."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="the workflow's code, e.g. budget-text")
        parser.add_argument("--to", type=int, required=True, help="the target version number")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            moved = services.migrate_workflow(actor=None, code=options["code"], to=options["to"])
        except WorkflowError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"{len(moved)} text(s) moved to {options['code']} v{options['to']}"
            + (": " + ", ".join(f"#{pk}" for pk in moved) if moved else "")
        )
