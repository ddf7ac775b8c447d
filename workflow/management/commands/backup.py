from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflow import backups


class Command(BaseCommand):
    help = (
        "Back up the database (PostgreSQL: pg_dump custom format; SQLite: its backup API) "
        "and the audit checkpoint file into DIR, with manifest.json naming each file's "
        "SHA-256. Restore with restore_backup DIR, then check with verify_audit."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="a new or empty directory")

    def handle(self, *args: Any, directory: Path, **options: Any) -> None:
        try:
            manifest = backups.back_up(directory)
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        files = ", ".join(manifest["files"])
        audit = manifest["audit"]
        self.stdout.write(
            f"backed up into {directory}: {files} ({audit['events']} audit events, latest "
            f"checkpoint {audit['latest_checkpoint'] or 'none'})"
        )
