"""Backup and restore (README, "Backup and restore"): `backup DIR` writes the database and the
audit checkpoint file with a manifest of their SHA-256; `restore_backup DIR` puts them onto a
fresh database; `verify_audit` then checks the restored log against the checkpoints, so that
a backup that lost its newest events, or holds an altered one, is reported.

The backup runs in this process on the test database; the restore and the verification run
as an operator would run them on a fresh machine: processes of their own, on a database and
a checkpoint file that are new. On both databases."""

# ruff: noqa: F811 - the fixture imported from tests.test_database_role is a test parameter

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Max

from tests.factories import act
from tests.live import database_url
from tests.tampering import CHECKPOINTS, EVENTS, tamper
from tests.test_database_role import ROLE as APP_ROLE
from tests.test_database_role import app_role  # noqa: F401 - fixture
from workflow import audit, backups
from workflow.models import AuditChain, AuditCheckpoint, AuditEvent

PROJECT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fresh_database(tmp_path) -> Iterator[str]:
    """The DATABASE_URL of a new, empty database of the kind the suite runs on."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    server = database_url().rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def restored_checkpoints(tmp_path) -> Path:
    """Where the fresh machine keeps its checkpoint file (nothing there yet)."""
    return tmp_path / "fresh-machine" / "audit-checkpoints.log"


def manage(*args: str, database: str, checkpoints: Path) -> subprocess.CompletedProcess[str]:
    """manage.py as a process on the fresh machine: its database, its checkpoint file, and
    the signing key the checkpoints were made with (kept apart from the backup)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database,
        "AUDIT_CHECKPOINT_FILE": str(checkpoints),
        "SECRET_KEY": settings.SECRET_KEY,
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def sealed_log(cast):
    """Texts moved through the workflow and sealed (a checkpoint in the database and in the
    file); then the newest events of one text, sealed too. Returns that text and the last
    checkpoint before its newest events."""
    cast.text_in("finance_review")
    text = cast.text_in("approval")
    audit.seal()
    before_tail = AuditCheckpoint.objects.aggregate(last=Max("seq"))["last"]
    act(cast.approver, text, "approve")
    audit.seal()
    assert AuditCheckpoint.objects.aggregate(last=Max("seq"))["last"] > before_tail
    return text, before_tail


def restore_and_verify(tmp_path, database: str, checkpoints: Path):
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    restored = manage("restore_backup", str(backup), database=database, checkpoints=checkpoints)
    assert restored.returncode == 0, restored.stderr
    return manage("verify_audit", database=database, checkpoints=checkpoints)


def test_a_backup_restored_onto_a_fresh_database_verifies(
    sealed_log, tmp_path, fresh_database, restored_checkpoints
):
    verified = restore_and_verify(tmp_path, fresh_database, restored_checkpoints)

    assert verified.returncode == 0, verified.stderr
    assert f"{AuditEvent.objects.count()} events verified" in verified.stdout
    assert restored_checkpoints.read_text() == Path(settings.AUDIT_CHECKPOINT_FILE).read_text()


def test_a_backup_that_lost_its_newest_events_is_reported_against_the_checkpoint_file(
    sealed_log, tmp_path, fresh_database, restored_checkpoints
):
    text, before_tail = sealed_log
    stream = audit.text_stream(text.pk)
    newest = AuditEvent.objects.filter(stream=stream).order_by("-seq").first()
    # What the database's owner can do: delete the newest event, set the stream's head back
    # and delete the checkpoints that sealed it. The database alone then holds together.
    with transaction.atomic():
        tamper(f"DELETE FROM {EVENTS} WHERE id = %s", [newest.pk])
        AuditChain.objects.filter(stream=stream).update(
            length=newest.seq - 1, head_hash=newest.prev_hash
        )
        tamper(f"DELETE FROM {CHECKPOINTS} WHERE seq > %s", [before_tail])

    verified = restore_and_verify(tmp_path, fresh_database, restored_checkpoints)

    assert verified.returncode != 0
    assert f"{stream}: 检查点封存了 {newest.seq} 条，现仅有 {newest.seq - 1} 条" in verified.stderr


def test_a_backup_holding_an_altered_event_is_reported(
    sealed_log, tmp_path, fresh_database, restored_checkpoints
):
    text, _before_tail = sealed_log
    altered = AuditEvent.objects.filter(text=text, action="submit").first()
    with transaction.atomic():
        tamper(f"UPDATE {EVENTS} SET comment = %s WHERE id = %s", ["改过的意见", altered.pk])

    verified = restore_and_verify(tmp_path, fresh_database, restored_checkpoints)

    assert verified.returncode != 0
    assert f"#{altered.pk}" in verified.stderr


def test_the_manifest_names_every_file_with_its_hash(sealed_log, tmp_path):
    manifest = backups.back_up(tmp_path / "backup")

    database = backups.DATABASE_FILES[connection.vendor]
    assert set(manifest["files"]) == {database, backups.CHECKPOINTS}
    assert manifest["audit"]["events"] == AuditEvent.objects.count()
    for name, described in manifest["files"].items():
        assert described["sha256"] == backups._sha256(tmp_path / "backup" / name)


def test_a_restore_refuses_a_database_that_holds_tables_and_changes_nothing(sealed_log, tmp_path):
    backups.back_up(tmp_path / "backup")
    events = AuditEvent.objects.count()

    with pytest.raises(CommandError, match="not empty"):
        call_command("restore_backup", str(tmp_path / "backup"))

    assert AuditEvent.objects.count() == events


def test_a_restore_refuses_a_backup_whose_database_file_was_altered(
    sealed_log, tmp_path, fresh_database, restored_checkpoints
):
    backups.back_up(tmp_path / "backup")
    dump = tmp_path / "backup" / backups.DATABASE_FILES[connection.vendor]
    content = bytearray(dump.read_bytes())
    content[len(content) // 2] ^= 0xFF
    dump.write_bytes(bytes(content))

    restored = manage(
        "restore_backup",
        str(tmp_path / "backup"),
        "--force",
        database=fresh_database,
        checkpoints=restored_checkpoints,
    )

    assert restored.returncode != 0
    assert f"{dump.name} does not match the manifest" in restored.stderr
    assert not restored_checkpoints.exists()


def test_a_backup_goes_only_into_an_empty_directory(db, tmp_path):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "something").write_text("x")

    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", str(tmp_path / "backup"))


def test_a_restore_keeps_a_different_checkpoint_file_already_there(
    sealed_log, tmp_path, fresh_database, restored_checkpoints
):
    # It may be newer than the backup: then it is the witness of what the backup lacks.
    backups.back_up(tmp_path / "backup")
    restored_checkpoints.parent.mkdir(parents=True)
    restored_checkpoints.write_text('{"seq": 1, "hash": "newer"}\n')
    run = ("restore_backup", str(tmp_path / "backup"))

    refused = manage(*run, database=fresh_database, checkpoints=restored_checkpoints)
    forced = manage(*run, "--force", database=fresh_database, checkpoints=restored_checkpoints)

    assert refused.returncode != 0
    assert "differs from the backup's checkpoint file" in refused.stderr
    assert forced.returncode == 0, forced.stderr
    kept = list(restored_checkpoints.parent.glob("audit-checkpoints.log.before-restore-*"))
    assert [path.read_text() for path in kept] == ['{"seq": 1, "hash": "newer"}\n']
    assert restored_checkpoints.read_text() == Path(settings.AUDIT_CHECKPOINT_FILE).read_text()


@pytest.mark.postgres
def test_the_applications_role_makes_a_backup_that_restores_and_verifies(
    sealed_log, app_role, tmp_path, fresh_database, restored_checkpoints
):
    # As compose's `backup` service runs: the role that owns no table, reading every one.
    as_app = database_url().replace("postgres://postgres@", f"postgres://{APP_ROLE}@", 1)
    backup = tmp_path / "backup"
    made = manage(
        "backup", str(backup), database=as_app, checkpoints=Path(settings.AUDIT_CHECKPOINT_FILE)
    )
    assert made.returncode == 0, made.stderr

    restored = manage(
        "restore_backup", str(backup), database=fresh_database, checkpoints=restored_checkpoints
    )
    verified = manage("verify_audit", database=fresh_database, checkpoints=restored_checkpoints)

    assert restored.returncode == 0, restored.stderr
    assert verified.returncode == 0, verified.stderr
