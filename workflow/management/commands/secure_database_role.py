"""Give the application's PostgreSQL role what it needs and no more.

Run by the role that owns the tables (the one that ran `migrate`) after every migration:

    DATABASE_URL=postgres://owner@... python manage.py secure_database_role workflow_app

The application then connects as `workflow_app`, which is not the owner: it may read and
write the ordinary tables but may only read and append to the audit log, the checkpoints,
the revisions and the decisions, and, not owning them, cannot drop or disable their
triggers.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from psycopg import sql

APPEND_ONLY = (
    "workflow_audit_event",
    "workflow_audit_checkpoint",
    "submissions_revision",
    "workflow_decision",
)


class Command(BaseCommand):
    help = "Grant the application's database role ordinary access, append-only on the audit."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the PostgreSQL role the application connects as")

    def handle(self, *args: Any, role: str, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("only PostgreSQL has roles; SQLite relies on its triggers")
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                raise CommandError(f"no such role: {role}")
            cursor.execute("SELECT current_user")
            if cursor.fetchone()[0] == role:
                raise CommandError("run this as the tables' owner, not as the application role")
        grantee = sql.Identifier(role)
        statements = [
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(grantee),
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(grantee),
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(grantee),
            *(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                    sql.Identifier(table), grantee
                )
                for table in APPEND_ONLY
            ),
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement.as_string(cursor.connection))
        self.stdout.write(f"{role}: read and write, append-only on {', '.join(APPEND_ONLY)}")
