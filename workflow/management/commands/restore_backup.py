from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflow import backups


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` onto the configured database (which must be "
        "empty, unless --force) and AUDIT_CHECKPOINT_FILE, after checking every file against "
        "the manifest. Then run verify_audit; on PostgreSQL also secure_database_role."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="the backup's directory")
        parser.add_argument(
            "--force",
            action="store_true",
            help="restore over a database that holds tables, and replace a checkpoint file "
            "that differs (kept under another name)",
        )

    def handle(self, *args: Any, directory: Path, force: bool, **options: Any) -> None:
        try:
            restored = backups.restore(directory, force=force)
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        kept = f"; the previous one kept as {restored['kept']}" if restored["kept"] else ""
        self.stdout.write(
            f"restored the backup of {restored['created_at']} "
            f"({restored['audit']['events']} audit events); checkpoints in "
            f"{restored['checkpoint_file']}{kept}. Next: python manage.py migrate, "
            "then python manage.py verify_audit"
        )
