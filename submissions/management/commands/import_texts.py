from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflow import services
from workflow.exceptions import WorkflowError


class Command(BaseCommand):
    help = "Import project texts from a .txt or .docx file in the sample's format, as drafts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="the drafter the texts are created by")

    def handle(self, *args: Any, file: Path, user: str, **options: Any) -> None:
        actor = get_user_model().objects.filter(username=user).first()
        if actor is None:
            raise CommandError(f"unknown user: {user}")
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None
        try:
            texts = services.import_texts(actor=actor, filename=file.name, data=data)
        except WorkflowError as error:
            raise CommandError(error.message) from None
        for text in texts:
            self.stdout.write(f"created #{text.pk} {text.department.code} {text.title}")
