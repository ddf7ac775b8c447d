"""Each stream's head, announced outside the database when the application commits it.

The application's database role can append an event that chains correctly after a stream's
head and move the head row along: the database then holds together, and the next seal would
seal the forgery like any other event. The broker (Redis) is out of that role's reach, so
every commit that appended audit events also announces the touched streams' new heads there
(`audit:announced`, stream -> "length:hash", only ever raised). A head in the database beyond
its announcement was not written by the application: the seal names it in its line outside
the database, and verification reports it.

Off without a broker (no REDIS_URL: the embedded default): nothing is announced or compared.
A commit whose announcement cannot reach the broker is logged and retried with this
process's next announcement; if a seal comes first, the events show up as unannounced.
"""

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection, transaction

log = logging.getLogger(__name__)

KEY = "audit:announced"
# How long a seal or a verification that found a head beyond its announcement waits before
# looking again: a commit announces right after it, so a real event's announcement is
# milliseconds behind the head another process read.
GRACE_SECONDS = 1.0

# Raise each stream's announced length, never lower it (a late commit of an older length,
# or a retried announcement, must not undo a newer one). ARGV: stream, "length:hash", ...
_RAISE = """
for i = 1, #ARGV, 2 do
  local new = tonumber(string.match(ARGV[i + 1], '^(%d+):'))
  local old = redis.call('HGET', KEYS[1], ARGV[i])
  if not old or tonumber(string.match(old, '^(%d+):')) < new then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1
"""

_lock = threading.Lock()
_clients: dict[str, Any] = {}
# Heads this process could not announce (broker down): sent again with the next announcement.
_unsent: dict[str, list] = {}


def enabled() -> bool:
    return bool(settings.REDIS_URL) and not settings.CELERY_TASK_ALWAYS_EAGER


def _client() -> Any:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    url = settings.REDIS_URL
    with _lock:
        client = _clients.get(url)
        if client is None:
            # Fail fast: an action's commit must not wait for a broker that is down.
            client = redis.Redis.from_url(
                url, socket_timeout=2, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
            )
            _clients[url] = client
        return client


class _Batch:
    """The heads one transaction touched, announced once when it commits."""

    def __init__(self) -> None:
        self.heads: dict[str, list] = {}
        self.index = -1
        self.savepoints = tuple(connection.savepoint_ids)
        # The very object registered with on_commit, so that it can be found again there.
        self.callback = self.send

    def collects_now(self) -> bool:
        """Does this batch take the heads recorded now? Only while its callback still waits
        for the commit (a rollback drops it, and a savepoint's rollback drops those registered
        after it, moving this one if it was one of them) and only within the same savepoint,
        so that a savepoint rolled back takes the heads recorded in it along with its batch."""
        hooks = connection.run_on_commit
        return (
            self.savepoints == tuple(connection.savepoint_ids)
            and 0 <= self.index < len(hooks)
            and hooks[self.index][1] is self.callback
        )

    def send(self) -> None:
        if getattr(connection, "_audit_announcements", None) is self:
            connection._audit_announcements = None
        announce(self.heads)


def announce_after_commit(stream: str, length: int, head_hash: str) -> None:
    """Announce `stream`'s head once the current transaction commits. No query and no call
    to the broker now: the heads of one transaction are collected in memory."""
    if not enabled():
        return
    batch = getattr(connection, "_audit_announcements", None)
    if batch is not None and batch.collects_now():
        # Events of one stream come in order: the last one is its head.
        batch.heads[stream] = [length, head_hash]
        return
    batch = _Batch()
    batch.heads[stream] = [length, head_hash]
    connection._audit_announcements = batch
    batch.index = len(connection.run_on_commit)
    transaction.on_commit(batch.callback, robust=True)


def announce(heads: dict[str, list]) -> bool:
    """Raise the announced heads to `heads` ({stream: [length, hash]}); False when the broker
    could not be reached (logged; kept for this process's next announcement)."""
    with _lock:
        pending = {**_unsent}
        _unsent.clear()
    for stream, head in heads.items():
        if stream not in pending or pending[stream][0] < head[0]:
            pending[stream] = head
    if not pending:
        return True
    args: list[str] = []
    for stream, (length, head_hash) in pending.items():
        args += [stream, f"{length}:{head_hash}"]
    try:
        _client().eval(_RAISE, 1, KEY, *args)
        return True
    except Exception:
        with _lock:
            for stream, head in pending.items():
                if stream not in _unsent or _unsent[stream][0] < head[0]:
                    _unsent[stream] = head
        names = ", ".join(f"{s} {h[0]}" for s, h in sorted(pending.items())[:20])
        log.warning(
            "audit: could not announce heads to the broker (down?): %s; a seal before the "
            "next announcement reports them as unannounced",
            names,
        )
        return False


def announced(streams: list[str]) -> dict[str, int] | None:
    """The announced length of each stream named that has one; None when the broker could
    not be reached. (Only those named: a seal every few seconds must not read them all.)"""
    try:
        values = _client().hmget(KEY, streams) if streams else []
        raw = dict(zip(streams, values, strict=True))
    except Exception:
        log.warning("audit: could not read the announced heads (broker down?)")
        return None
    result = {}
    for name, value in raw.items():
        if value is not None:
            value = value.decode() if isinstance(value, bytes) else value
            result[name] = int(value.split(":", 1)[0])
    return result


def _nothing_announced() -> bool:
    try:
        return not _client().exists(KEY)
    except Exception:
        return False


def unannounced(heads: dict[str, int], floors: dict[str, int]) -> dict[str, list[int]] | None:
    """The streams whose head (`heads`: stream -> length) is beyond both what was announced
    and `floors` (what was sealed before), as {stream: [announced_length, length]}: events
    announced_length+1 .. length were never announced. None when the comparison could not
    be made (feature off, broker down, or a broker that holds no announcement at all: a new
    or emptied broker, which starts over from these heads)."""
    if not enabled() or not heads:
        return None
    known = announced(sorted(heads))
    if known is None:
        return None
    if not known and _nothing_announced():
        log.warning(
            "audit: the broker holds no announced heads (new, or it lost its data): "
            "announcements start over from the database's heads"
        )
        announce({s: [length, ""] for s, length in heads.items()})
        return None

    def behind() -> dict[str, list[int]]:
        found = {}
        for stream, length in heads.items():
            floor = max(known.get(stream, 0), floors.get(stream, 0))
            if length > floor:
                found[stream] = [floor, length]
        return found

    found = behind()
    if found:
        time.sleep(GRACE_SECONDS)
        again = announced(sorted(found))
        if again is not None:
            known.update(again)
            found = behind()
    return found
