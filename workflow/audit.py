"""Writing and verifying the hash-chained audit log.

`record` is called only from `workflow.services`, inside the transaction of the change it
describes. Each stream (one text, one user's roles) has its own chain whose head row in
`AuditChain` is locked while an event is appended: actions on different texts never wait
for each other, and two events of one stream can never claim the same place.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from workflow.models import AuditChain, AuditEvent, Outcome

GENESIS_HASH = "0" * 64


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


def _lock_chain(stream: str) -> AuditChain:
    chain = AuditChain.objects.select_for_update().filter(stream=stream).first()
    if chain is not None:
        return chain
    try:
        with transaction.atomic():
            return AuditChain.objects.create(stream=stream, length=0, head_hash=GENESIS_HASH)
    except IntegrityError:
        # Another transaction created the stream first; wait for its lock like everyone else.
        return AuditChain.objects.select_for_update().get(stream=stream)


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
) -> AuditEvent:
    """Append one event to `stream`. Must run inside the transaction of the change."""
    chain = _lock_chain(stream)
    event = AuditEvent(
        stream=stream,
        seq=chain.length + 1,
        at=timezone.now(),
        actor_id=actor.pk if actor is not None else None,
        actor_name=actor.get_username() if actor is not None else "",
        action=action,
        outcome=outcome,
        text_id=text_id,
        department=department,
        from_state=from_state,
        to_state=to_state,
        revision=revision,
        comment=comment,
        changes=changes or {},
        detail=detail or {},
        prev_hash=chain.head_hash,
    )
    event.hash = compute_hash(event)
    event.save(force_insert=True)
    AuditChain.objects.filter(stream=stream).update(length=event.seq, head_hash=event.hash)
    return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad: int | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad": self.first_bad,
            "detail": self.detail,
        }


def verify() -> VerifyResult:
    """Recompute every event's hash and every link; name the first (lowest id) bad event.

    An event is bad when its stored hash is not the hash of its content, when its
    `prev_hash` is not its predecessor's hash, or when its place in the stream does not
    follow its predecessor's (an event before it was deleted). A stream whose head row
    claims more events than remain has lost its tail.
    """
    heads = {c.stream: c for c in AuditChain.objects.all()}
    problems: list[tuple[int | None, str]] = []
    checked = 0
    stream = None
    expected_seq, expected_prev = 1, GENESIS_HASH

    def close_stream(name: str | None, length: int, last_hash: str, last_id: int | None) -> None:
        if name is None:
            return
        head = heads.pop(name, None)
        if head is None or head.length != length or head.head_hash != last_hash:
            claimed = head.length if head else 0
            problems.append((last_id, f"{name}: 头部记录 {claimed} 条，实有 {length} 条"))

    last_id = None
    events = AuditEvent.objects.order_by("stream", "seq").iterator(chunk_size=2000)
    for event in events:
        checked += 1
        if event.stream != stream:
            close_stream(stream, expected_seq - 1, expected_prev, last_id)
            stream, expected_seq, expected_prev = event.stream, 1, GENESIS_HASH
        if event.seq != expected_seq:
            problems.append((event.pk, f"{stream}: 第 {expected_seq} 条事件缺失"))
        elif event.prev_hash != expected_prev:
            problems.append((event.pk, f"{stream}: 事件 #{event.pk} 与前一条不相连"))
        elif compute_hash(event) != event.hash:
            problems.append((event.pk, f"事件 #{event.pk} 的内容与其哈希不符（被改动）"))
        expected_seq, expected_prev, last_id = event.seq + 1, event.hash, event.pk
    close_stream(stream, expected_seq - 1, expected_prev, last_id)
    for name, head in heads.items():
        if head.length:
            problems.append((None, f"{name}: 头部记录 {head.length} 条，实有 0 条"))

    if not problems:
        return VerifyResult(True, checked, None, f"全部 {checked} 条审计事件校验通过。")
    with_id = [p for p in problems if p[0] is not None]
    first_id, message = min(with_id) if with_id else problems[0]
    return VerifyResult(False, checked, first_id, message)
