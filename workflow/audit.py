"""Writing and verifying the hash-chained audit log.

`record` is called only from `workflow.services`, inside the transaction of the change it
describes. Each stream (one text, one user's roles) has its own chain whose head row in
`AuditChain` is locked while an event is appended: actions on different texts never wait
for each other, and two events of one stream can never claim the same place.
"""

import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from workflow.models import AuditChain, AuditCheckpoint, AuditEvent, AuditVerification, Outcome

GENESIS_HASH = "0" * 64
# The event that says a stream's head row was missing and was rebuilt from its last event.
HEAD_RESTORED = "audit_head_restored"


def text_stream(text_id: int) -> str:
    return f"text:{text_id}"


def user_stream(user_id: int) -> str:
    return f"user:{user_id}"


def canonical_bytes(event: AuditEvent) -> bytes:
    """The exact bytes an event's hash covers.

    Sorted keys, no insignificant whitespace, UTF-8, times in UTC with microseconds: the
    same event always serialises to the same bytes, on any database and in any year.
    """
    at = event.at.astimezone(UTC) if event.at.tzinfo else event.at.replace(tzinfo=UTC)
    document = {
        "stream": event.stream,
        "seq": event.seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor": event.actor_name,
        "action": event.action,
        "outcome": event.outcome,
        "text": event.text_id,
        "department": event.department,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "revision": event.revision,
        "comment": event.comment,
        "changes": event.changes,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


def _lock_chain(stream: str) -> tuple[AuditChain, bool]:
    """Lock the stream's head row; create it for a new stream.

    A head row deleted from under a stream that has events is rebuilt from its last event
    (True as the second value), rather than restarting the chain at 1 and failing every
    later action on it; the caller records that it happened.
    """
    chain = AuditChain.objects.select_for_update().filter(stream=stream).first()
    if chain is not None:
        return chain, False
    last = AuditEvent.objects.filter(stream=stream).order_by("-seq").values("seq", "hash").first()
    try:
        with transaction.atomic():
            chain = AuditChain.objects.create(
                stream=stream,
                length=last["seq"] if last else 0,
                head_hash=last["hash"] if last else GENESIS_HASH,
            )
            return chain, last is not None
    except IntegrityError:
        # Another transaction created the stream first; wait for its lock like everyone else.
        return AuditChain.objects.select_for_update().get(stream=stream), False


def _next_event(chain: AuditChain, **fields: Any) -> AuditEvent:
    """The event that would follow the chain's head, hashed, not yet written."""
    event = AuditEvent(stream=chain.stream, seq=chain.length + 1, at=timezone.now(), **fields)
    event.prev_hash = chain.head_hash
    event.hash = compute_hash(event)
    return event


def _append(chain: AuditChain, **fields: Any) -> AuditEvent:
    event = _next_event(chain, **fields)
    event.save(force_insert=True)
    chain.length, chain.head_hash = event.seq, event.hash
    return event


def record(
    *,
    stream: str,
    actor: AbstractBaseUser | None,
    action: str,
    outcome: str = Outcome.OK,
    text_id: int | None = None,
    department: str = "",
    from_state: str = "",
    to_state: str = "",
    revision: int | None = None,
    comment: str = "",
    changes: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    head: tuple[int, str] | None = None,
) -> AuditEvent:
    """Append one event to `stream`. Must run inside the transaction of the change.

    `action` is a word of the log's closed vocabulary (`workflow.vocabulary.is_event`).
    `head` is the stream's (length, head hash) if the caller read it already in this
    transaction: then the head row is moved on only if it still says that (which locks
    it), and the event follows it; two statements instead of three. If it moved on
    meanwhile (a refused attempt recorded in its own transaction), the head is locked and
    read again as without `head`."""
    from workflow.vocabulary import is_event

    if not is_event(action):
        raise ValueError(f"{action!r} is not an audit event: add it to workflow.vocabulary")
    fields = {
        "actor_id": actor.pk if actor is not None else None,
        "actor_name": actor.get_username() if actor is not None else "",
        "action": action,
        "outcome": outcome,
        "text_id": text_id,
        "department": department,
        "from_state": from_state,
        "to_state": to_state,
        "revision": revision,
        "comment": comment,
        "changes": changes or {},
        "detail": detail or {},
    }
    if head is not None:
        length, head_hash = head
        event = _next_event(AuditChain(stream=stream, length=length, head_hash=head_hash), **fields)
        moved = AuditChain.objects.filter(stream=stream, length=length, head_hash=head_hash).update(
            length=event.seq, head_hash=event.hash
        )
        if moved:
            event.save(force_insert=True)
            return event
    chain, restored = _lock_chain(stream)
    if restored:
        _append(
            chain,
            action=HEAD_RESTORED,
            text_id=text_id,
            department=department,
            detail={"length": chain.length, "head_hash": chain.head_hash},
        )
    event = _append(chain, **fields)
    AuditChain.objects.filter(stream=stream).update(length=chain.length, head_hash=chain.head_hash)
    return event


def record_for_text(text: Any, **fields: Any) -> AuditEvent:
    """Append an event to the stream of `text` (a ProjectText with its department)."""
    return record(
        stream=text_stream(text.pk), text_id=text.pk, department=text.department.code, **fields
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad: int | None
    detail: str
    latest_checkpoint: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad": self.first_bad,
            "detail": self.detail,
            "latest_checkpoint": self.latest_checkpoint,
        }


# --- Checkpoints -----------------------------------------------------------------------------


def _digest(document: Any) -> str:
    return hashlib.sha256(
        json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


def _signing_key() -> bytes:
    return (getattr(settings, "AUDIT_SIGNING_KEY", "") or settings.SECRET_KEY).encode()


def _checkpoint_document(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    return {
        "seq": checkpoint.seq,
        "at": checkpoint.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "event_count": checkpoint.event_count,
        "stream_count": checkpoint.stream_count,
        "heads": checkpoint.heads,
        "root": checkpoint.root,
        "prev_hash": checkpoint.prev_hash,
    }


def _sign(digest: str) -> str:
    return hmac.new(_signing_key(), digest.encode(), hashlib.sha256).hexdigest()


def _file_line(checkpoint: AuditCheckpoint) -> str:
    return json.dumps(
        {
            "seq": checkpoint.seq,
            "at": checkpoint.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "event_count": checkpoint.event_count,
            "root": checkpoint.root,
            "hash": checkpoint.hash,
            "signature": checkpoint.signature,
        },
        sort_keys=True,
    )


def _sealed_map(checkpoints: list[AuditCheckpoint]) -> dict[str, list]:
    sealed: dict[str, list] = {}
    for checkpoint in checkpoints:
        sealed.update(checkpoint.heads)
    return sealed


# Any number that no other advisory lock of this database uses.
SEALING_LOCK = 8_317_001


def _one_sealer_at_a_time() -> None:
    """Two seals at once would both be number n+1. An advisory lock, not FOR UPDATE: the
    application's role may not lock the append-only checkpoint rows for update. (SQLite's
    IMMEDIATE transactions serialise writers already.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEALING_LOCK])


@transaction.atomic(durable=True)
def seal() -> AuditCheckpoint | None:
    """Seal the log as it stands: a checkpoint row, and its line in the file outside the
    database. None when nothing was written since the last checkpoint."""
    _one_sealer_at_a_time()
    previous = list(AuditCheckpoint.objects.order_by("seq"))
    sealed = _sealed_map(previous)
    # One query: a consistent snapshot of every stream's head.
    current = {c.stream: [c.length, c.head_hash] for c in AuditChain.objects.all()}
    if previous and current == sealed:
        return None
    checkpoint = AuditCheckpoint(
        seq=previous[-1].seq + 1 if previous else 1,
        at=timezone.now(),
        event_count=sum(length for length, _head in current.values()),
        stream_count=len(current),
        heads={name: head for name, head in current.items() if sealed.get(name) != head},
        root=_digest(sorted(current.items())),
        prev_hash=previous[-1].hash if previous else GENESIS_HASH,
    )
    checkpoint.hash = _digest(_checkpoint_document(checkpoint))
    checkpoint.signature = _sign(checkpoint.hash)
    checkpoint.save(force_insert=True)
    transaction.on_commit(lambda: _append_to_file(checkpoint))
    return checkpoint


def _append_to_file(checkpoint: AuditCheckpoint) -> None:
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: every line lands at the end, whoever else is writing.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(descriptor, "a", encoding="utf-8") as file:
        file.write(_file_line(checkpoint) + "\n")
        file.flush()
        os.fsync(file.fileno())


def _check_checkpoints(checkpoints: list[AuditCheckpoint]) -> list[str]:
    """Each checkpoint must hash, sign, chain and add up; the file outside must agree."""
    problems = []
    sealed: dict[str, list] = {}
    prev_hash = GENESIS_HASH
    for expected_seq, checkpoint in enumerate(checkpoints, start=1):
        sealed.update(checkpoint.heads)
        name = f"检查点 {checkpoint.seq}"
        if checkpoint.seq != expected_seq:
            problems.append(f"检查点 {expected_seq} 缺失")
        elif checkpoint.prev_hash != prev_hash:
            problems.append(f"{name} 与前一检查点不相连")
        elif _digest(_checkpoint_document(checkpoint)) != checkpoint.hash:
            problems.append(f"{name} 的内容与其哈希不符（被改动）")
        elif not hmac.compare_digest(_sign(checkpoint.hash), checkpoint.signature):
            problems.append(f"{name} 的签名无效")
        elif _digest(sorted(sealed.items())) != checkpoint.root:
            problems.append(f"{name} 的根哈希与其记录的数据流不符")
        prev_hash = checkpoint.hash
    problems.extend(_check_file(checkpoints))
    return problems


def _check_file(checkpoints: list[AuditCheckpoint]) -> list[str]:
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    if not path.exists():
        return [f"检查点文件 {path} 不存在"] if checkpoints else []
    by_seq = {c.seq: c for c in checkpoints}
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            entry = json.loads(line)
            seq, digest = int(entry["seq"]), str(entry["hash"])
        except (ValueError, KeyError, TypeError):
            problems.append(f"检查点文件第 {number} 行无法读取")
            continue
        checkpoint = by_seq.get(seq)
        if checkpoint is None:
            problems.append(f"检查点 {seq} 在文件中存在，但已从数据库中消失")
        elif checkpoint.hash != digest:
            problems.append(f"检查点 {seq} 与文件中的记录不符")
    return problems


# --- Verification ----------------------------------------------------------------------------


def _sealed_points(checkpoints: list[AuditCheckpoint]) -> dict[str, dict[int, str]]:
    """Every (stream, length) -> head hash that any checkpoint sealed."""
    points: dict[str, dict[int, str]] = {}
    for checkpoint in checkpoints:
        for name, (length, head_hash) in checkpoint.heads.items():
            points.setdefault(name, {})[length] = head_hash
    return points


def verify() -> VerifyResult:
    """Recompute every event's hash and every link, then check every checkpoint against
    the log; name the first (lowest id) bad event.

    An event is bad when its stored hash is not the hash of its content, when its
    `prev_hash` is not its predecessor's hash, when its place in the stream does not
    follow its predecessor's (an event before it was deleted), or when a checkpoint sealed
    a different hash at its place (it, or an event since the previous seal of its stream,
    was rewritten and re-hashed). A stream whose head row claims more events than remain
    has lost its tail; so has one shorter than a checkpoint sealed it.
    """
    checkpoints = list(AuditCheckpoint.objects.order_by("seq"))
    points = _sealed_points(checkpoints)
    heads = {c.stream: c for c in AuditChain.objects.all()}
    problems: list[tuple[int | None, str]] = [(None, p) for p in _check_checkpoints(checkpoints)]
    checked = 0

    def close_stream(name: str | None, length: int, last_hash: str, last_id) -> None:
        if name is None:
            return
        head = heads.pop(name, None)
        if head is None or head.length != length or head.head_hash != last_hash:
            claimed = head.length if head else 0
            problems.append((last_id, f"{name}: 头部记录 {claimed} 条，实有 {length} 条"))
        sealed_length = max(points.pop(name, {}), default=0)
        if sealed_length > length:
            problems.append(
                (last_id, f"{name}: 检查点封存了 {sealed_length} 条，现仅有 {length} 条")
            )

    stream, last_id = None, None
    stream_points: dict[int, str] = {}
    last_good_seal, rewritten = 0, False
    expected_seq, expected_prev = 1, GENESIS_HASH
    for event in AuditEvent.objects.order_by("stream", "seq").iterator(chunk_size=2000):
        checked += 1
        if event.stream != stream:
            close_stream(stream, expected_seq - 1, expected_prev, last_id)
            stream, expected_seq, expected_prev = event.stream, 1, GENESIS_HASH
            stream_points, last_good_seal, rewritten = points.get(stream, {}), 0, False
        if event.seq != expected_seq:
            problems.append((event.pk, f"{stream}: 第 {expected_seq} 条事件缺失"))
        elif event.prev_hash != expected_prev:
            problems.append((event.pk, f"{stream}: 事件 #{event.pk} 与前一条不相连"))
        elif compute_hash(event) != event.hash:
            problems.append((event.pk, f"事件 #{event.pk} 的内容与其哈希不符（被改动）"))
        sealed_hash = stream_points.get(event.seq)
        if sealed_hash == event.hash:
            last_good_seal = event.seq
        elif sealed_hash is not None and not rewritten:
            rewritten = True
            problems.append(
                (
                    event.pk,
                    f"{stream}: 事件 #{event.pk}（第 {event.seq} 条）与检查点封存的哈希不符："
                    f"第 {last_good_seal + 1} 至 {event.seq} 条中有事件在封存后被改写",
                )
            )
        expected_seq, expected_prev, last_id = event.seq + 1, event.hash, event.pk
    close_stream(stream, expected_seq - 1, expected_prev, last_id)
    for name, head in heads.items():
        if head.length:
            problems.append((None, f"{name}: 头部记录 {head.length} 条，实有 0 条"))
    for name, sealed in points.items():
        problems.append((None, f"{name}: 检查点封存了 {max(sealed)} 条，现已全部消失"))

    latest = checkpoints[-1] if checkpoints else None
    summary = (
        {"seq": latest.seq, "at": latest.at.isoformat(), "event_count": latest.event_count}
        if latest
        else None
    )
    if not problems:
        return VerifyResult(True, checked, None, f"全部 {checked} 条审计事件校验通过。", summary)
    with_id = [p for p in problems if p[0] is not None]
    first_id, message = min(with_id) if with_id else problems[0]
    return VerifyResult(False, checked, first_id, message, summary)


def verify_and_keep() -> AuditVerification:
    """Verify the whole log and keep the result, so that pages can show it without
    recomputing the log per request (run by beat, `run_sweeps` and `verify_audit`)."""
    started = time.monotonic()
    result = verify()
    return AuditVerification.objects.create(
        ok=result.ok,
        checked=result.checked,
        first_bad=result.first_bad,
        detail=result.detail,
        seconds=round(time.monotonic() - started, 3),
    )
