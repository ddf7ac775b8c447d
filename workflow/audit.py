"""Writing and verifying the hash-chained audit log.

`record` is called only from `workflow.services`, inside the transaction of the change it
describes. Each stream (one text, one user's roles) has its own chain whose head row in
`AuditChain` is locked while an event is appended: actions on different texts never wait
for each other, and two events of one stream can never claim the same place.
"""

import gc
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from hashlib import sha256
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from workflow import announcements, digests, parallel_verification, prepared, witness
from workflow.audit_rows import EventRow, EventRun, event_runs
from workflow.models import (
    AuditChain,
    AuditCheckpoint,
    AuditEvent,
    AuditSealedHead,
    AuditVerification,
    AuditVerifiedHead,
    Outcome,
)

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
# The event that says a stream's head row was missing and was rebuilt from its last event.
HEAD_RESTORED = "audit_head_restored"
SHA256 = digests.SHA256


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
    """The event's hash under its own algorithm (`event.digest`), whatever is configured now."""
    return digests.hexdigest(event.digest, canonical_bytes(event))


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
    event = AuditEvent(
        stream=chain.stream,
        seq=chain.length + 1,
        at=timezone.now(),
        digest=digests.current(),
        **fields,
    )
    event.prev_hash = chain.head_hash
    event.hash = compute_hash(event)
    return event


def _append(chain: AuditChain, **fields: Any) -> AuditEvent:
    event = _next_event(chain, **fields)
    prepared.insert(event)
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
        moved = prepared.update(
            AuditChain,
            {"length": event.seq, "head_hash": event.hash},
            stream=stream,
            length=length,
            head_hash=head_hash,
        )
        if moved:
            prepared.insert(event)
            _after_append(stream, event.seq, event.hash)
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
    _after_append(stream, chain.length, chain.head_hash)
    return event


def _after_append(stream: str, length: int, head_hash: str) -> None:
    """After the commit: announce the stream's new head outside the database, then ask for a
    seal (in that order: the seal's callback runs after the announcement's)."""
    announcements.announce_after_commit(stream, length, head_hash)
    _seal_soon()


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
    # Where the next incremental verification starts: {"format": STATE_FORMAT, "checkpoint":
    # [seq, hash] | None, "file_offset": n}, with the heads below (kept in AuditVerifiedHead).
    state: dict[str, Any] = field(default_factory=dict, compare=False)
    # {stream: (length, head hash, sealed length)} verified by this run: every stream's (a
    # full verification) or those it moved on (an incremental one).
    heads: dict[str, tuple[int, str, int]] = field(default_factory=dict, compare=False)
    # (stream, first seq, last seq) of the events no seal covers yet (full verification).
    unsealed: list[tuple[str, int, int]] = field(default_factory=list, compare=False)

    def unsealed_summary(self, limit: int = 20) -> str:
        """ "N events after the last seal: stream x seq a..b, ..." or ""."""
        if not self.unsealed:
            return ""
        count = sum(last - first + 1 for _name, first, last in self.unsealed)
        ranges = [f"{name} seq {first}..{last}" for name, first, last in self.unsealed[:limit]]
        more = len(self.unsealed) - limit
        tail = f" and {more} more streams" if more > 0 else ""
        return f"{count} events after the last seal: {', '.join(ranges)}{tail}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad": self.first_bad,
            "detail": self.detail,
            "latest_checkpoint": self.latest_checkpoint,
        }


# --- Checkpoints -----------------------------------------------------------------------------


def _digest(document: Any, algorithm: str) -> str:
    return digests.hexdigest(
        algorithm,
        json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(),
    )


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


def _sign(digest: str, algorithm: str) -> str:
    return digests.hmac_hexdigest(algorithm, _signing_key(), digest.encode())


def _file_line(checkpoint: AuditCheckpoint, unannounced: dict[str, list[int]] | None = None) -> str:
    """The checkpoint's copy outside the database. With the heads it sealed, the file alone
    says what each stream held when sealed: deleting the newest events and the checkpoints
    that covered them, or replacing them with forged ones that chain, disagrees with it.
    `unannounced` ({stream: [announced length, sealed length]}) names the events it sealed
    that the application never announced (workflow.announcements): only there when some are."""
    extra = {"unannounced": unannounced} if unannounced else {}
    return json.dumps(
        {
            **extra,
            "seq": checkpoint.seq,
            "at": checkpoint.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "event_count": checkpoint.event_count,
            "heads": checkpoint.heads,
            "root": checkpoint.root,
            "hash": checkpoint.hash,
            "signature": checkpoint.signature,
            "digest": checkpoint.digest,
            "signature_digest": checkpoint.signature_digest,
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def _chained_root(previous_root: str, heads: dict[str, list], algorithm: str) -> str:
    """The root of a checkpoint that sealed `heads` after one whose root is `previous_root`
    (`AuditCheckpoint.RootKind.CHAIN`): each root commits to the one before it, so to every
    stream's head, and costs only what this checkpoint sealed."""
    return _digest([previous_root, sorted(heads.items())], algorithm)


def _expected_root(checkpoint: AuditCheckpoint, previous_root: str, sealed: dict) -> str:
    """What `checkpoint.root` must be, `sealed` being every head sealed up to it."""
    if checkpoint.root_kind == AuditCheckpoint.RootKind.MAP:
        return _digest(sorted(sealed.items()), checkpoint.digest)
    return _chained_root(previous_root, checkpoint.heads, checkpoint.digest)


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
    """Seal the log as it stands: a checkpoint row, its line in the file outside the database
    and, when AUDIT_WITNESS_URL names one, the same line sent to the witness. None when
    nothing was written since the last checkpoint.

    Reads the last checkpoint and the heads that changed since (AuditSealedHead against
    AuditChain, compared in the database), not every checkpoint nor every head: seals come
    within seconds of each change, so there are many, and a province's log has hundreds of
    thousands of streams."""
    _one_sealer_at_a_time()
    previous = AuditCheckpoint.objects.order_by("-seq").first()
    changed, was = _unsealed_heads()
    if previous is not None and not changed:
        return None
    # Sealed all the same (the log must stay sealable), but named in the line outside.
    unannounced = announcements.unannounced(
        {name: head[0] for name, head in changed.items()},
        {name: length for name, length in was.items() if length is not None},
    )
    if unannounced:
        log.error("audit: sealing events the application never announced: %s", unannounced)
    grown = sum(head[0] - (was[name] or 0) for name, head in changed.items())
    checkpoint = AuditCheckpoint(
        seq=previous.seq + 1 if previous else 1,
        at=timezone.now(),
        event_count=(previous.event_count if previous else 0) + grown,
        stream_count=(previous.stream_count if previous else 0)
        + sum(1 for length in was.values() if length is None),
        heads=changed,
        prev_hash=previous.hash if previous else GENESIS_HASH,
        digest=digests.current(),
        signature_digest=digests.current_signature(),
    )
    checkpoint.root = _chained_root(
        previous.root if previous else GENESIS_HASH, changed, checkpoint.digest
    )
    checkpoint.hash = _digest(_checkpoint_document(checkpoint), checkpoint.digest)
    checkpoint.signature = _sign(checkpoint.hash, checkpoint.signature_digest)
    checkpoint.save(force_insert=True)
    AuditSealedHead.objects.bulk_create(
        [AuditSealedHead(stream=s, length=h[0], head_hash=h[1]) for s, h in changed.items()],
        update_conflicts=True,
        unique_fields=["stream"],
        update_fields=["length", "head_hash"],
        batch_size=500,
    )
    line = _file_line(checkpoint, unannounced)
    transaction.on_commit(lambda: _append_to_file(line))
    transaction.on_commit(lambda: witness.send(line), robust=True)
    return checkpoint


def _unsealed_heads() -> tuple[dict[str, list], dict[str, int | None]]:
    """The heads of the streams that changed since they were last sealed, and the length each
    had then (None: never sealed), in one statement, so one snapshot. AuditSealedHead is
    written only with the checkpoints, under the sealing lock: with the last checkpoint's
    counts it gives the new ones without reading every head."""
    sealed = AuditSealedHead.objects.filter(stream=OuterRef("stream"))
    rows = (
        AuditChain.objects.exclude(
            Exists(sealed.filter(length=OuterRef("length"), head_hash=OuterRef("head_hash")))
        )
        .annotate(sealed_length=Subquery(sealed.values("length")[:1]))
        .values_list("stream", "length", "head_hash", "sealed_length")
    )
    changed, was = {}, {}
    for stream, length, head_hash, sealed_length in rows:
        changed[stream], was[stream] = [length, head_hash], sealed_length
    return changed, was


def _append_to_file(line: str) -> None:
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (line + "\n").encode()
    # O_APPEND and one write() per line: every line lands whole at the end, whoever else is
    # writing (a reader may still catch a line half-written: see _file_size).
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        written = os.write(descriptor, data)
        while written < len(data):
            written += os.write(descriptor, data[written:])
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- Closer seals: each change sealed within seconds ----------------------------------------

# No seal is ever sent with a countdown: a worker holds such a task unacknowledged until it is
# due, and when the broker's connection then drops, kombu 5.7 crashes the worker while putting
# it back. So a process sends a seal at once, at most once per AUDIT_SEAL_DELAY_SECONDS;
# commits within that window are covered by one more seal, sent by a timer when it ends.
_seal_lock = threading.Lock()
_seal_sent_at = 0.0  # time.time() of this process's last seal request
_seal_timer: threading.Timer | None = None


def _seal_soon() -> None:
    """Ask for a seal after the transaction commits. No query: record() stays as cheap as it
    was; the callbacks of one transaction's events coalesce into one seal when they run.
    Off without a worker (the embedded default seals on `run_sweeps`)."""
    if settings.AUDIT_SEAL_DELAY_SECONDS <= 0 or settings.CELERY_TASK_ALWAYS_EAGER:
        return
    transaction.on_commit(_seal_after_commit, robust=True)


def _seal_after_commit() -> None:
    """Ask for a seal now, unless this process asked less than AUDIT_SEAL_DELAY_SECONDS ago:
    then a timer asks once more when that window ends, covering every commit within it
    (coalesced: at most one seal per process and window, however many actions). Beat's seal
    is the backstop for a lost one (the process ended first, the broker was down)."""
    global _seal_timer
    with _seal_lock:
        wait = _seal_sent_at + settings.AUDIT_SEAL_DELAY_SECONDS - time.time()
        if _seal_timer is not None:
            return  # the window's seal is still to be sent: it covers this commit
        if wait <= 0:
            _send_seal()
        else:
            _seal_timer = _start_timer(wait, _seal_at_window_end)


def _start_timer(wait: float, callback: Callable[[], None]) -> threading.Timer:
    timer = threading.Timer(wait, callback)
    timer.daemon = True
    timer.start()
    return timer


def _seal_at_window_end() -> None:
    global _seal_timer
    with _seal_lock:
        _seal_timer = None
        _send_seal()


def cancel_pending_seal() -> None:
    """Forget this process's window: its timer is stopped (its commits are left to beat's
    seal). For a test, so that one test's timer never fires in the next."""
    global _seal_timer, _seal_sent_at
    with _seal_lock:
        if _seal_timer is not None:
            _seal_timer.cancel()
        _seal_timer, _seal_sent_at = None, 0.0


def _send_seal() -> None:
    """Called holding _seal_lock."""
    global _seal_sent_at
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # no worker now: a seal would run here, in a web process's thread
    _seal_sent_at = time.time()
    from workflow.tasks import seal_audit_log

    try:
        # retry=False: a broker that is down refuses at once; beat's seal covers this change.
        seal_audit_log.apply_async(retry=False)
    except Exception:
        log.warning("audit: could not ask for a seal (broker down?); beat's seal will cover it")


def _check_checkpoints(
    checkpoints: list[AuditCheckpoint],
    file_end: int | None = None,
    *,
    after: tuple[int, str, str] = (0, GENESIS_HASH, GENESIS_HASH),
    sealed: dict[str, list] | None = None,
    file_start: int = 0,
    file_points: dict[str, dict[int, str]] | None = None,
    unannounced: list[tuple[int, str, int, int]] | None = None,
) -> list[str]:
    """Each checkpoint must hash, sign, chain and add up; the file outside must agree.

    `checkpoints` follow checkpoint `after` (seq, hash, root), whose cumulative sealed heads
    are `sealed` (both empty for the whole log); `sealed` is updated in place. The file is read
    from byte `file_start` to `file_end` (None: to its end); the heads its lines sealed are
    added to `file_points`, the events they name as never announced to `unannounced`
    (checkpoint seq, stream, announced length, sealed length)."""
    problems = []
    sealed = {} if sealed is None else sealed
    expected_seq, prev_hash, prev_root = after[0] + 1, after[1], after[2]
    for checkpoint in checkpoints:
        sealed.update(checkpoint.heads)
        name = f"检查点 {checkpoint.seq}"
        if checkpoint.seq != expected_seq:
            problems.append(f"检查点 {expected_seq} 缺失")
        elif checkpoint.prev_hash != prev_hash:
            problems.append(f"{name} 与前一检查点不相连")
        elif _digest(_checkpoint_document(checkpoint), checkpoint.digest) != checkpoint.hash:
            problems.append(f"{name} 的内容与其哈希不符（被改动）")
        elif not hmac.compare_digest(
            _sign(checkpoint.hash, checkpoint.signature_digest), checkpoint.signature
        ):
            problems.append(f"{name} 的签名无效")
        elif _expected_root(checkpoint, prev_root, sealed) != checkpoint.root:
            problems.append(f"{name} 的根哈希与其记录的数据流不符")
        expected_seq, prev_hash, prev_root = expected_seq + 1, checkpoint.hash, checkpoint.root
    problems.extend(_check_file(checkpoints, file_start, file_end, file_points, unannounced))
    return problems


def _file_size() -> int:
    """Where the checkpoint file's last whole line ends, measured before a verification's
    snapshot: every line up to here was written after its checkpoint committed, so the
    snapshot sees that checkpoint; a line being written now is left for the next run."""
    try:
        with Path(settings.AUDIT_CHECKPOINT_FILE).open("rb") as file:
            end = file.seek(0, os.SEEK_END)
            while end > 0:
                block = max(end - 65536, 0)
                file.seek(block)
                newline = file.read(end - block).rfind(b"\n")
                if newline >= 0:
                    return block + newline + 1
                end = block
            return 0
    except FileNotFoundError:
        return 0


def _check_file(
    checkpoints: list[AuditCheckpoint],
    start: int = 0,
    end: int | None = None,
    points: dict[str, dict[int, str]] | None = None,
    unannounced: list[tuple[int, str, int, int]] | None = None,
) -> list[str]:
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    if not path.exists():
        return [f"检查点文件 {path} 不存在"] if checkpoints or start else []
    with path.open("rb") as file:
        size = file.seek(0, os.SEEK_END)
        if size < start:
            return [f"检查点文件 {path} 被截短（已校验到第 {start} 字节，现仅 {size} 字节）"]
        file.seek(start)
        chunk = file.read(None if end is None else max(end - start, 0))
    by_seq = {c.seq: c for c in checkpoints}
    lines = chunk.decode("utf-8", errors="replace").splitlines()
    first_line = 1 if start == 0 else None
    entries: list[tuple[int, dict[str, Any] | None]] = []
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
            heads = {str(s): (int(h[0]), str(h[1])) for s, h in entry.get("heads", {}).items()}
            never = {
                str(s): (int(r[0]), int(r[1])) for s, r in entry.get("unannounced", {}).items()
            }
            entries.append(
                (
                    number,
                    {
                        "seq": int(entry["seq"]),
                        "hash": str(entry["hash"]),
                        "heads": heads,
                        "unannounced": never,
                    },
                )
            )
        except (ValueError, KeyError, TypeError):
            entries.append((number, None))
    missing = {e["seq"] for _n, e in entries if e is not None and e["seq"] not in by_seq}
    if missing and start:
        # An incremental run holds only the new checkpoints: fetch the older ones named.
        by_seq.update({c.seq: c for c in AuditCheckpoint.objects.filter(seq__in=missing)})
    problems = []
    for number, entry in entries:
        if entry is None:
            where = f"第 {number} 行" if first_line else f"第 {start} 字节之后第 {number} 行"
            problems.append(f"检查点文件{where}无法读取")
            continue
        if points is not None:
            for name, (length, head_hash) in entry["heads"].items():
                # The first seal of a place stands: a later line that seals something else
                # there means the log was rewritten and sealed again.
                earlier = points.setdefault(name, {}).setdefault(length, head_hash)
                if earlier != head_hash:
                    problems.append(
                        f"检查点文件中 {name} 第 {length} 条被封存过两次且不一致"
                        f"（第 {entry['seq']} 号检查点）：日志在封存后被改写"
                    )
        if unannounced is not None:
            for name, (announced, length) in sorted(entry["unannounced"].items()):
                unannounced.append((entry["seq"], name, announced, length))
        checkpoint = by_seq.get(entry["seq"])
        if checkpoint is None:
            problems.append(f"检查点 {entry['seq']} 在文件中存在，但已从数据库中消失")
        elif checkpoint.hash != entry["hash"]:
            problems.append(f"检查点 {entry['seq']} 与文件中的记录不符")
    return problems


# --- Verification ----------------------------------------------------------------------------


def _unannounced_problems(
    sealed: list[tuple[int, str, int, int]], live: dict[str, list[int]] | None
) -> list[tuple[int | None, str]]:
    """Events the application never announced (workflow.announcements), named by stream and
    seqs, the first of each range as the bad event: those a seal's line outside the database
    names (`sealed`: checkpoint seq, stream, announced, length) and those beyond their
    announcement in the database now (`live`: {stream: [announced, length]})."""
    ranges = [(name, a, n, f"（第 {seq} 号检查点封存时记下）") for seq, name, a, n in sealed]
    ranges += [(name, a, n, "（尚未封存）") for name, (a, n) in sorted((live or {}).items())]
    problems: list[tuple[int | None, str]] = []
    for name, announced, length, when in ranges:
        first = AuditEvent.objects.filter(stream=name, seq=announced + 1).values_list("pk")
        problems.append(
            (
                next(iter(first), (None,))[0],
                f"{name}: 第 {announced + 1} 至 {length} 条事件从未经应用程序公告{when}："
                f"是否绕过应用程序直接写入？",
            )
        )
    return problems


def _sealed_points(checkpoints: list[AuditCheckpoint]) -> dict[str, dict[int, str]]:
    """Every (stream, length) -> head hash that any checkpoint sealed."""
    points: dict[str, dict[int, str]] = {}
    for checkpoint in checkpoints:
        for name, (length, head_hash) in checkpoint.heads.items():
            points.setdefault(name, {})[length] = head_hash
    return points


def _link_problem(
    stream: str,
    expected_seq: int,
    expected_prev: str,
    pk: int,
    seq: int,
    prev_hash: str,
    recomputed: str | None,
    stored: str,
) -> str:
    """What is wrong with event `pk` (at `seq`, after `prev_hash`, its hash `stored`, its
    content hashing to `recomputed`) as the next link of `stream` ("" if nothing): a gap, a
    broken link, or content that no longer matches its hash."""
    if seq != expected_seq:
        return f"{stream}: 第 {expected_seq} 条事件缺失"
    if prev_hash != expected_prev:
        return f"{stream}: 事件 #{pk} 与前一条不相连"
    if recomputed != stored:
        return f"事件 #{pk} 的内容与其哈希不符（被改动）"
    return ""


def _event_link_problem(
    event: AuditEvent, stream: str, expected_seq: int, expected_prev: str
) -> str:
    return _link_problem(
        stream,
        expected_seq,
        expected_prev,
        event.pk,
        event.seq,
        event.prev_hash,
        _recomputed_hash(event),
        event.hash,
    )


def _recomputed_hash(event: AuditEvent) -> str | None:
    """`compute_hash` of a stored event; None (matching no stored hash) when its algorithm's
    name is none of the log's, which only a row rewritten by hand can hold."""
    try:
        return compute_hash(event)
    except ValueError:
        return None


def _row_hash(digest: str, data: bytes) -> str | None:
    """The hash of `data` under the algorithm named `digest`; None (matching no stored hash)
    for a name no algorithm has, which only a row rewritten by hand can hold."""
    # hashlib.sha256 directly: hashlib.new looks the name up on every call.
    if digest == SHA256:
        return sha256(data).hexdigest()
    try:
        return digests.hexdigest(digest, data)
    except ValueError:
        return None


def verify(jobs: int = 1) -> VerifyResult:
    """Recompute every event's hash and every link, then check every checkpoint against
    the log; name the first (lowest id) bad event.

    An event is bad when its stored hash is not the hash of its content, when its
    `prev_hash` is not its predecessor's hash, when its place in the stream does not
    follow its predecessor's (an event before it was deleted), or when a checkpoint sealed
    a different hash at its place (it, or an event since the previous seal of its stream,
    was rewritten and re-hashed). A stream whose head row claims more events than remain
    has lost its tail; so has one shorter than a checkpoint sealed it.

    With `jobs` above 1 (PostgreSQL), that many processes walk the streams in parallel, each
    a share of them, all in the one snapshot (workflow.parallel_verification).
    """
    file_end = _file_size()
    with cycle_collector_paused(), _snapshot():
        return _verify_all(file_end, jobs)


def _verify_all(file_end: int, jobs: int) -> VerifyResult:
    checkpoints = list(AuditCheckpoint.objects.order_by("seq"))
    points = _sealed_points(checkpoints)
    # (length, head hash) per stream: rows, not a model per stream; in the database's order of
    # streams, by which a parallel verification splits them.
    heads = {
        name: (length, head_hash)
        for name, length, head_hash in AuditChain.objects.order_by("stream").values_list(
            "stream", "length", "head_hash"
        )
    }
    file_points: dict[str, dict[int, str]] = {}
    never: list[tuple[int, str, int, int]] = []
    problems: list[tuple[int | None, str]] = [
        (None, p)
        for p in _check_checkpoints(
            checkpoints, file_end, file_points=file_points, unannounced=never
        )
    ]
    # The file's copy wins where it and a checkpoint row disagree (the row was rewritten;
    # that is reported above): events are compared with what was sealed outside.
    for name, file_stream in file_points.items():
        points.setdefault(name, {}).update(file_stream)
    seal_lengths = {name: max(p) for name, p in points.items() if p}
    problems.extend(
        _unannounced_problems(
            never,
            announcements.unannounced({n: h[0] for n, h in heads.items()}, seal_lengths),
        )
    )
    runs = parallel_verification.split(heads, jobs) if parallel_verification.possible() else []
    if len(runs) > 1:
        walked = parallel_verification.walk(runs, heads, points, seal_lengths)
    else:
        walked = walk_events(event_runs(), heads, points, seal_lengths)
    problems.extend(walked.problems)
    checked, verified = walked.checked, walked.verified

    latest = checkpoints[-1] if checkpoints else None
    state = {
        "format": STATE_FORMAT,
        "checkpoint": [latest.seq, latest.hash] if latest else None,
        "file_offset": file_end,
    }
    heads = {
        name: (length, head_hash, seal_lengths.get(name, 0))
        for name, (length, head_hash) in verified.items()
    }
    result = _result(problems, checked, latest, state, heads)
    result.unsealed.extend(walked.unsealed)
    return result


@dataclass
class Walk:
    """What walking the events of some streams found: the events checked, the problems
    (event id or None, message), the unsealed ranges and each stream's (length, head hash)."""

    checked: int = 0
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    unsealed: list[tuple[str, int, int]] = field(default_factory=list)
    verified: dict[str, list] = field(default_factory=dict)

    def add(self, other: "Walk") -> None:
        self.checked += other.checked
        self.problems.extend(other.problems)
        self.unsealed.extend(other.unsealed)
        self.verified.update(other.verified)


@dataclass(slots=True)
class _Place:
    """Where a walk stands in one stream: what its next event must be and follow, and what it
    has met of the stream's seals."""

    sealed: dict[int, str]  # {length: head hash} every seal of the stream
    seq: int = 1
    prev_hash: str = GENESIS_HASH
    last_id: int | None = None
    last_good_seal: int = 0
    rewritten: bool = False


def walk_events(
    runs: Iterable[EventRun],
    heads: dict[str, tuple[int, str]],
    points: dict[str, dict[int, str]],
    seal_lengths: dict[str, int],
) -> Walk:
    """Check the events in `runs` (as `audit_rows.event_runs` gives them, in stream then seq
    order): each one's hash and link, each stream against its head row (`heads`: {stream:
    (length, head hash)}) and its seals (`points`: {stream: {length: hash}}). `heads` and
    `points` hold the streams these events may belong to, and no others: a head or a seal
    whose stream has no event left is reported too. Both are consumed."""
    walked = Walk()
    problems = walked.problems

    def close_stream(name: str | None, place: _Place) -> None:
        if name is None:
            return
        length = place.seq - 1
        walked.verified[name] = [length, place.prev_hash]
        if length > seal_lengths.get(name, 0):
            walked.unsealed.append((name, seal_lengths.get(name, 0) + 1, length))
        head = heads.pop(name, None)
        if head != (length, place.prev_hash):
            claimed = head[0] if head else 0
            problems.append((place.last_id, f"{name}: 头部记录 {claimed} 条，实有 {length} 条"))
        sealed_length = max(points.pop(name, {}), default=0)
        if sealed_length > length:
            problems.append(
                (place.last_id, f"{name}: 检查点封存了 {sealed_length} 条，现仅有 {length} 条")
            )

    stream, place = None, _Place({})
    for run in runs:
        if run.stream != stream:
            close_stream(stream, place)
            stream, place = run.stream, _Place(points.get(run.stream, {}))
        walked.checked += len(run)
        if not _passed_whole(run, place):
            for row in sorted(run.rows(), key=_seq_of):
                _walk_event(row, place, problems)
    close_stream(stream, place)
    for name, (length, _head_hash) in heads.items():
        if length:
            problems.append((None, f"{name}: 头部记录 {length} 条，实有 0 条"))
    for name, sealed in points.items():
        if sealed:
            problems.append((None, f"{name}: 检查点封存了 {max(sealed)} 条，现已全部消失"))
    return walked


def _seq_of(row: EventRow) -> int:
    return row[2]


def _passed_whole(run: EventRun, place: _Place) -> bool:
    """Whether every event of `run` is intact where `place` stands: each in its place, linked
    to the one before, hashing to its hash, and the hash of each seal in the run; if so, move
    `place` past it. This is `_walk_event` for a run without a problem (one list comparison
    a column, not a branch an event); a run with one is walked event by event."""
    first, count = place.seq, len(run)
    if not run.placed_from(first):
        return False
    if run.prev_hashes[0] != place.prev_hash or run.prev_hashes[1:] != run.hashes[:-1]:
        return False
    if run.digests.count(SHA256) == count:
        recomputed = [sha256(data).hexdigest() for data in run.canonicals]
    else:
        recomputed = list(map(_row_hash, run.digests, run.canonicals))
    if recomputed != run.hashes:
        return False
    seals = [seq for seq in place.sealed if first <= seq < first + count]
    if any(run.hashes[seq - first] != place.sealed[seq] for seq in seals):
        return False
    place.last_good_seal = max(seals, default=place.last_good_seal)
    place.seq, place.prev_hash, place.last_id = first + count, run.hashes[-1], run.last_id
    return True


def _walk_event(row: EventRow, place: _Place, problems: list[tuple[int | None, str]]) -> None:
    pk, stream, seq, prev_hash, stored, digest, data = row
    recomputed = _row_hash(digest, data)
    if seq != place.seq or prev_hash != place.prev_hash or recomputed != stored:
        problems.append(
            (
                pk,
                _link_problem(
                    stream, place.seq, place.prev_hash, pk, seq, prev_hash, recomputed, stored
                ),
            )
        )
    sealed_hash = place.sealed.get(seq)
    if sealed_hash == stored:
        place.last_good_seal = seq
    elif sealed_hash is not None and not place.rewritten:
        place.rewritten = True
        problems.append(
            (
                pk,
                f"{stream}: 事件 #{pk}（第 {seq} 条）与检查点封存的哈希不符："
                f"第 {place.last_good_seal + 1} 至 {seq} 条中有事件在封存后被改写",
            )
        )
    place.seq, place.prev_hash, place.last_id = seq + 1, stored, pk


def _result(
    problems: list[tuple[int | None, str]],
    checked: int,
    latest: AuditCheckpoint | None,
    state: dict[str, Any],
    heads: dict[str, tuple[int, str, int]],
) -> VerifyResult:
    summary = (
        {"seq": latest.seq, "at": latest.at.isoformat(), "event_count": latest.event_count}
        if latest
        else None
    )
    kept = {"state": state, "heads": heads}
    if not problems:
        message = f"全部 {checked} 条审计事件校验通过。"
        return VerifyResult(True, checked, None, message, summary, **kept)
    with_id = [p for p in problems if p[0] is not None]
    first_id, message = min(with_id) if with_id else problems[0]
    return VerifyResult(False, checked, first_id, message, summary, **kept)


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of the events, their heads and the checkpoints for a whole
    verification, so that events appended meanwhile are not taken for a broken head.
    (Inside an outer transaction, a test's, its snapshot rules.)"""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def verify_and_keep(request: Any = None) -> AuditVerification:
    """Verify the whole log and keep the result (and where the next incremental verification
    starts), so that pages and the API answer from it without recomputing the log (run by
    `verify_audit`, an auditor's request, `run_sweeps`)."""
    return verify_fully(request)[0]


def verify_fully(request: Any = None, jobs: int = 1) -> tuple[AuditVerification, VerifyResult]:
    """`verify_and_keep`, also returning the result itself (with the unsealed events)."""
    started = time.monotonic()
    with cycle_collector_paused():
        result = verify(jobs)
        return _keep(result, AuditVerification.Kind.FULL, started, request=request), result


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector paused for the enclosed work. A full verification holds a few
    objects for each stream (heads, seals, what it verified) from start to end, and the
    collector, woken by the objects each run makes, would traverse them all again and again (a
    tenth of the verification's time) though the walk makes no cycle for it to find."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@transaction.atomic
def _keep(result: VerifyResult, kind: str, started: float, **extra: Any) -> AuditVerification:
    """Keep the result with its state, and, when it passed, the heads it verified; the state
    moves: the previous newest row's is cleared (only the newest is ever read). A failure
    keeps no heads: the next verification is a full one (`verify_new_and_keep`)."""
    if result.ok:
        _keep_verified_heads(result.heads, replace=kind == AuditVerification.Kind.FULL)
    previous = AuditVerification.objects.order_by("-at", "-id").values_list("pk", flat=True)
    previous_pk = previous.first()
    kept = AuditVerification.objects.create(
        ok=result.ok,
        checked=result.checked,
        first_bad=result.first_bad,
        detail=result.detail,
        seconds=round(time.monotonic() - started, 3),
        kind=kind,
        state=result.state,
        **extra,
    )
    if previous_pk is not None:
        AuditVerification.objects.filter(pk=previous_pk).update(state={})
    return kept


def _keep_verified_heads(heads: dict[str, tuple[int, str, int]], *, replace: bool) -> None:
    """Write the verified heads; with `replace` (a full verification: every stream) the table
    holds these and no others. On PostgreSQL a whole table is written with COPY: a province's
    log has hundreds of thousands of streams."""
    if replace:
        AuditVerifiedHead.objects.all().delete()
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(AuditVerifiedHead._meta.db_table)
            columns = "stream, length, head_hash, sealed_length"
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for name, head in heads.items():
                    copy.write_row((name, *head))
            return
    AuditVerifiedHead.objects.bulk_create(
        (
            AuditVerifiedHead(stream=name, length=length, head_hash=head_hash, sealed_length=sealed)
            for name, (length, head_hash, sealed) in heads.items()
        ),
        batch_size=500,
        update_conflicts=True,
        unique_fields=["stream"],
        update_fields=["length", "head_hash", "sealed_length"],
    )


def latest_verification(with_state: bool = False) -> AuditVerification | None:
    verifications = AuditVerification.objects.order_by("-at", "-id")
    if not with_state:
        verifications = verifications.defer("state")
    return verifications.first()


def verify_new_and_keep() -> AuditVerification:
    """Verify only what was appended since the latest verification, and keep the result.

    The first verification is a full one, and so is the first after an upgrade that changed
    what a verification keeps. A failure stands until a full verification passes: the events
    it named are behind the point an incremental run starts from."""
    last = latest_verification(with_state=True)
    if last is None or not _resumable(last):
        return verify_and_keep()
    if not last.ok:
        return last
    started = time.monotonic()
    result = verify_since(last)
    return _keep(result, AuditVerification.Kind.INCREMENTAL, started)


def current_verification() -> tuple[AuditVerification | None, int]:
    """The verification to answer with, and how many events it does not cover yet.

    Catches up in the caller's time only when that is cheap (at most
    AUDIT_VERIFY_INLINE_EVENTS new events); otherwise the scheduled task will. The heads
    that moved are found once, in the snapshot the catching up reads."""
    last = latest_verification(with_state=True)
    if last is not None and not last.ok:
        return last, 0
    if last is None or not _resumable(last):
        pending = AuditChain.objects.aggregate(n=Sum("length"))["n"] or 0
        if pending <= settings.AUDIT_VERIFY_INLINE_EVENTS:
            return verify_and_keep(), 0
        return last, pending
    started, file_end = time.monotonic(), _file_size()
    with _snapshot():
        moved = _moved_heads()
        pending = sum(max((n or 0) - (seen or 0), 0) for _s, n, _h, seen, *_rest in moved)
        if not moved or pending > settings.AUDIT_VERIFY_INLINE_EVENTS:
            return last, pending
        result = _verify_since(last.state, last.checked, file_end, moved)
    return _keep(result, AuditVerification.Kind.INCREMENTAL, started), 0


# What a verification keeps for the next one to start from (`VerifyResult.state`); a kept
# state of another format is not resumed: a full verification runs instead.
STATE_FORMAT = 2


def _resumable(last: AuditVerification) -> bool:
    return bool(last.state) and last.state.get("format") == STATE_FORMAT


def _moved_heads() -> list[tuple[str, int | None, str | None, int | None, str | None, int]]:
    """(stream, length, head hash, verified length, verified hash, sealed length) of each
    stream whose head is not the one verified: moved on, rewound, rewritten, never verified
    (the verified ones None) or whose head row is gone (its length and hash None). Two
    joins in the database, which serve a log of any number of streams in one pass."""
    chain = connection.ops.quote_name(AuditChain._meta.db_table)
    verified = connection.ops.quote_name(AuditVerifiedHead._meta.db_table)
    sql = (
        "SELECT c.stream, c.length, c.head_hash, v.length, v.head_hash, "  # noqa: S608
        f"COALESCE(v.sealed_length, 0) FROM {chain} c LEFT JOIN {verified} v "
        "ON v.stream = c.stream "
        "WHERE v.stream IS NULL OR v.length <> c.length OR v.head_hash <> c.head_hash "
        "UNION ALL "
        f"SELECT v.stream, NULL, NULL, v.length, v.head_hash, v.sealed_length FROM {verified} v "
        f"WHERE NOT EXISTS (SELECT 1 FROM {chain} c WHERE c.stream = v.stream)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def verify_since(last: AuditVerification) -> VerifyResult:
    """Verify the events, checkpoints and checkpoint-file lines added since `last`.

    Per stream, from the last verified event (re-read once, to see that it still has the
    hash that was verified) to the head; each new checkpoint against the previous verified
    one and the sealed heads; each new file line against its checkpoint. Events before the
    verified point are not read: a full verification is what finds them changed."""
    file_end = _file_size()
    with _snapshot():
        return _verify_since(last.state, last.checked, file_end, _moved_heads())


# Streams whose new events are read in one query.
STREAMS_PER_QUERY = 200


def _verify_since(
    state: dict[str, Any], checked: int, file_end: int, moved: list[tuple]
) -> VerifyResult:
    """`verify_since`, in its snapshot, `moved` being `_moved_heads()` read in it."""
    seq, checkpoint_hash = state.get("checkpoint") or (0, GENESIS_HASH)
    after = (seq, checkpoint_hash, GENESIS_HASH)
    problems: list[tuple[int | None, str]] = []
    if seq:
        still = list(AuditCheckpoint.objects.filter(seq=seq).values_list("hash", "root"))
        if [row[0] for row in still] != [checkpoint_hash]:
            problems.append((None, f"已校验的检查点 {seq} 被删除或改动"))
        else:
            after = (seq, checkpoint_hash, still[0][1])

    heads = {name: [length, head] for name, length, head, *_rest in moved if length is not None}
    verified = {
        name: [length, head] for name, _l, _h, length, head, _s in moved if length is not None
    }
    floors = {name: sealed for name, *_rest, sealed in moved}
    for name, (length, _hash) in verified.items():
        if name not in heads:
            problems.append((None, f"{name}: 链头记录已消失（已校验 {length} 条）"))

    file_points: dict[str, dict[int, str]] = {}
    never: list[tuple[int, str, int, int]] = []
    checkpoints = list(AuditCheckpoint.objects.filter(seq__gt=seq).order_by("seq"))
    problems.extend(
        (None, p)
        for p in _check_checkpoints(
            checkpoints,
            file_end,
            after=after,
            sealed=_sealed_before(checkpoints, seq),
            file_start=int(state.get("file_offset", 0)),
            file_points=file_points,
            unannounced=never,
        )
    )
    # What was sealed since: only the new seals can reach beyond the verified heads.
    points = _sealed_points(checkpoints)
    for name, file_stream in file_points.items():
        points.setdefault(name, {}).update(file_stream)
    unmoved = _heads_of([name for name in points if name not in heads])
    for name, stream_points in points.items():
        have, sealed = heads.get(name, unmoved.get(name, [0]))[0], max(stream_points)
        if sealed > have:
            problems.append((None, f"{name}: 检查点封存了 {sealed} 条，现仅有 {have} 条"))

    def sealed_length(name: str) -> int:
        return max(floors.get(name, 0), max(points.get(name, ()), default=0))

    problems.extend(
        _unannounced_problems(
            never,
            announcements.unannounced(
                {name: head[0] for name, head in heads.items()},
                {name: sealed_length(name) for name in heads},
            ),
        )
    )
    kept = {name: (head[0], head[1], sealed_length(name)) for name, head in unmoved.items()}
    changed = list(heads)
    for start in range(0, len(changed), STREAMS_PER_QUERY):
        chunk = changed[start : start + STREAMS_PER_QUERY]
        where = Q()
        for name in chunk:
            where |= Q(stream=name, seq__gte=max(verified.get(name, [0])[0], 1))
        events = AuditEvent.objects.filter(where).order_by("stream", "seq")
        by_stream: dict[str, list[AuditEvent]] = {name: [] for name in chunk}
        for event in events.iterator(chunk_size=2000):
            by_stream[event.stream].append(event)
        for name in chunk:
            new, stream_problems = _walk_new(
                name, verified.get(name, [0, GENESIS_HASH]), by_stream[name], heads[name], points
            )
            checked += new
            problems.extend(stream_problems)
            if not stream_problems:
                kept[name] = (heads[name][0], heads[name][1], sealed_length(name))

    latest = checkpoints[-1] if checkpoints else None
    if latest is None and seq:
        latest = AuditCheckpoint.objects.filter(seq=seq).first()
    new_state = {
        "format": STATE_FORMAT,
        "checkpoint": [latest.seq, latest.hash] if latest else None,
        "file_offset": file_end if file_end else int(state.get("file_offset", 0)),
    }
    return _result(problems, checked, latest, new_state, kept)


def _sealed_before(checkpoints: list[AuditCheckpoint], seq: int) -> dict[str, list]:
    """Every head sealed up to checkpoint `seq`, when one of `checkpoints` (those after it)
    has a root over the whole map (`RootKind.MAP`, made before chained roots); else
    nothing, as no root needs it."""
    if all(c.root_kind != AuditCheckpoint.RootKind.MAP for c in checkpoints):
        return {}
    return _sealed_map(list(AuditCheckpoint.objects.filter(seq__lte=seq).order_by("seq")))


def _heads_of(names: list[str]) -> dict[str, list]:
    found: dict[str, list] = {}
    for start in range(0, len(names), STREAMS_PER_QUERY):
        rows = AuditChain.objects.filter(stream__in=names[start : start + STREAMS_PER_QUERY])
        found.update({c.stream: [c.length, c.head_hash] for c in rows})
    return found


def _walk_new(
    name: str,
    since: list,
    events: list[AuditEvent],
    head: list,
    points: dict[str, dict[int, str]],
) -> tuple[int, list[tuple[int | None, str]]]:
    """Check one stream's events from its last verified one (`since`: [length, hash]) to its
    head. Returns how many new events were checked and what is wrong."""
    problems: list[tuple[int | None, str]] = []
    length, last_hash = since
    if head[0] < length:
        problems.append((None, f"{name}: 头部记录 {head[0]} 条，已校验过 {length} 条"))
    if length:
        anchor = events[0] if events and events[0].seq == length else None
        if anchor is None or anchor.hash != last_hash or _recomputed_hash(anchor) != anchor.hash:
            where = anchor.pk if anchor else (events[0].pk if events else None)
            problems.append((where, f"{name}: 已校验的第 {length} 条事件被删除或改动"))
            return 0, problems
        events = events[1:]
    stream_points = points.get(name, {})
    expected_seq, expected_prev, last_id, new = length + 1, last_hash, None, 0
    for event in events:
        new += 1
        problem = _event_link_problem(event, name, expected_seq, expected_prev)
        if problem:
            problems.append((event.pk, problem))
        sealed_hash = stream_points.get(event.seq)
        if sealed_hash is not None and sealed_hash != event.hash:
            problems.append(
                (event.pk, f"{name}: 事件 #{event.pk}（第 {event.seq} 条）与检查点封存的哈希不符")
            )
        expected_seq, expected_prev, last_id = event.seq + 1, event.hash, event.pk
    if [expected_seq - 1, expected_prev] != list(head):
        problems.append((last_id, f"{name}: 头部记录 {head[0]} 条，实有 {expected_seq - 1} 条"))
    return new, problems
