from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflow import services
from workflow.exceptions import WorkflowError


class Command(BaseCommand):
    help = (
        "Load a workflow document (YAML or JSON) as the next version of its workflow; the "
        "next submit follows it. An invalid document is refused, naming each problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the workflow document (.yaml, .yml or .json)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            source = path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        try:
            version = services.load_workflow(actor=None, source=source)
        except WorkflowError as error:
            errors = getattr(error, "errors", {"detail": [error.message]})
            lines = [f"{field}: {message}" for field, items in errors.items() for message in items]
            raise CommandError(f"{path} refused:\n" + "\n".join(lines)) from None
        stages = " → ".join(stage["code"] for stage in version.document["stages"])
        self.stdout.write(f"loaded {version.workflow.code} v{version.number}: {stages}")
