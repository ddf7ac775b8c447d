"""Backing up the database with the audit checkpoint file, and restoring both.

A backup is a directory: the database (PostgreSQL: `pg_dump` custom format; SQLite: a copy
made with SQLite's online backup API), the checkpoint file (AUDIT_CHECKPOINT_FILE) and
`manifest.json`, which names each file with its size and SHA-256. A restore checks the
manifest first and changes nothing when a file is missing or differs; it goes onto an empty
database only, unless forced. `verify_audit` then checks the restored log against the
checkpoints: events lost or altered since they were sealed are reported.

The checkpoints are signed with AUDIT_SIGNING_KEY (else SECRET_KEY): the restoring machine
needs the same key, which is kept apart from the backup, never in it.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from workflow.models import AuditCheckpoint, AuditEvent

MANIFEST = "manifest.json"
CHECKPOINTS = "audit-checkpoints.log"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
FORMAT = 1
# pg_dump and pg_restore of a large database take long; a hung one must still end.
TOOL_TIMEOUT = 6 * 3600


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _vendor() -> str:
    if connection.vendor not in DATABASE_FILES:
        raise BackupError(f"cannot back up a {connection.vendor} database")
    return connection.vendor


# --- PostgreSQL through its own tools ---------------------------------------------------------


def _pg_environment() -> dict[str, str]:
    """libpq's variables for the configured database: the password never on a command line."""
    database = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        {
            "PGHOST": str(database.get("HOST") or "127.0.0.1"),
            "PGPORT": str(database.get("PORT") or 5432),
            "PGUSER": str(database.get("USER") or ""),
            "PGDATABASE": str(database["NAME"]),
        }
    )
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    return env


def _run(command: list[str]) -> None:
    try:
        result = subprocess.run(  # noqa: S603 - PostgreSQL's own tools, arguments ours
            command,
            env=_pg_environment(),
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as error:
        raise BackupError(
            f"{command[0]} not found: install the PostgreSQL client tools (postgresql-client)"
        ) from error
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")


# --- Backup -----------------------------------------------------------------------------------


def back_up(directory: Path) -> dict[str, Any]:
    """Write a backup into `directory` (created; it must be empty) and return its manifest."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: a backup goes into a new or empty directory")
    directory.mkdir(parents=True, exist_ok=True)
    vendor = _vendor()
    audit = {
        "events": AuditEvent.objects.count(),
        "latest_checkpoint": AuditCheckpoint.objects.order_by("-seq")
        .values_list("seq", flat=True)
        .first(),
    }
    files = []
    # The checkpoint file before the database: a seal that lands in between is then in the
    # database and not in the file (which verifies), never in the file and not in the
    # database (which would look like a lost checkpoint).
    source = Path(settings.AUDIT_CHECKPOINT_FILE)
    if source.exists():
        shutil.copyfile(source, directory / CHECKPOINTS)
        files.append(CHECKPOINTS)
    database = directory / DATABASE_FILES[vendor]
    if vendor == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-password", f"--file={database}"])
    else:
        connection.ensure_connection()
        with sqlite3.connect(database) as target:
            connection.connection.backup(target)
        target.close()
    files.append(database.name)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": vendor,
        # What the log held when the backup began (the database may hold a little more).
        "audit": audit,
        "files": {
            name: {"bytes": (directory / name).stat().st_size, "sha256": _sha256(directory / name)}
            for name in files
        },
    }
    (directory / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


# --- Restore ----------------------------------------------------------------------------------


def checked_manifest(directory: Path) -> dict[str, Any]:
    """The backup's manifest, once every file it names is there with its size and hash."""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        files = dict(manifest["files"])
        vendor = manifest["database"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{directory / MANIFEST} is missing or unreadable: {error}") from error
    if manifest.get("format") != FORMAT or vendor not in DATABASE_FILES:
        raise BackupError(f"{directory / MANIFEST} is not a backup of this system")
    if DATABASE_FILES[vendor] not in files:
        raise BackupError(f"the manifest names no database file {DATABASE_FILES[vendor]}")
    for name, expected in files.items():
        path = directory / Path(name).name
        if not path.is_file():
            raise BackupError(f"{name} is missing from the backup")
        if path.stat().st_size != expected.get("bytes") or _sha256(path) != expected.get("sha256"):
            raise BackupError(f"{name} does not match the manifest (damaged or altered)")
    return manifest


def _is_empty() -> bool:
    return not connection.introspection.table_names()


def restore(directory: Path, *, force: bool = False) -> dict[str, Any]:
    """Restore the backup in `directory` onto the configured database and checkpoint file.

    Refuses, changing nothing, when the backup does not match its manifest, was made from
    another kind of database, or the database already holds tables (unless `force`). An
    existing checkpoint file that differs from the backup's is kept under another name
    (with `force`; without, refused): it may be newer than the backup, and then it is the
    witness of what the backup lacks.
    """
    directory = Path(directory)
    manifest = checked_manifest(directory)
    vendor = _vendor()
    if manifest["database"] != vendor:
        raise BackupError(
            f"this is a backup of a {manifest['database']} database; the target is {vendor}"
        )
    if not force and not _is_empty():
        raise BackupError("the target database is not empty (add --force to restore over it)")
    checkpoints = directory / CHECKPOINTS
    target = Path(settings.AUDIT_CHECKPOINT_FILE)
    replaced = None
    differs = (
        CHECKPOINTS in manifest["files"]
        and target.exists()
        and target.read_bytes() != checkpoints.read_bytes()
    )
    if differs and not force:
        raise BackupError(
            f"{target} exists and differs from the backup's checkpoint file (it may be "
            "newer: verify the restored log against it, or add --force to put the "
            "backup's in its place, keeping it under another name)"
        )
    if differs:
        replaced = target.with_name(
            f"{target.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        )
    database = directory / DATABASE_FILES[vendor]
    if vendor == "postgresql":
        options = ["--clean", "--if-exists"] if force else []
        # Objects owned by, and granted to, whoever restores: the application's role gets
        # its rights from `secure_database_role` afterwards, as after every migration.
        _run(
            [
                "pg_restore",
                "--no-password",
                "--no-owner",
                "--no-acl",
                "--single-transaction",
                "--exit-on-error",
                *options,
                f"--dbname={settings.DATABASES['default']['NAME']}",
                str(database),
            ]
        )
    else:
        name = str(settings.DATABASES["default"]["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            raise BackupError("cannot restore into an in-memory database")
        connection.close()
        with sqlite3.connect(database) as source, sqlite3.connect(name) as copy:
            source.backup(copy)
        source.close()
        copy.close()
    if CHECKPOINTS in manifest["files"]:
        target.parent.mkdir(parents=True, exist_ok=True)
        if replaced is not None:
            target.rename(replaced)
        if not target.exists():
            shutil.copyfile(checkpoints, target)
    return {**manifest, "checkpoint_file": str(target), "kept": str(replaced or "")}
