"""The webhook inbox: signed bodies committed before the 200, drained by workers.

Its statements run on a small psycopg pool of autocommit connections, not an ORM session:
the insert is all the database work POST /webhook does, and a session, its pool check and
its transaction would cost more than the statement. The trigger is a Redis key per shard,
`SET NX`: whoever sets it publishes the shard's drain, so a stream of webhooks publishes
one task per drain rather than one each; the drainer deletes it before its last empty
read, so a row committed after that read always sets it again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import psycopg
import redis

from persistence.buffer import process_buffer
from persistence.db import check_idle_connection, database_url, libpq_url

_LOCK_NAMESPACE = 3  # 1: turns (services.turns.flows), 2: parking releases
# a drainer renews it with each batch; a lost task or killed drainer holds it this long
TRIGGER_MS = 2_000
_TRIGGER_KEY = "switchboard:inbox:trigger:{}"

_INSERT = (
    "INSERT INTO webhook_inbox (channel, body, shard, shards) "
    "SELECT %s, %s, unnest(%s::smallint[]), %s"
)
_TAKE = (
    "SELECT id, channel, body, shards FROM webhook_inbox "
    "WHERE shard = %s AND error IS NULL ORDER BY id LIMIT %s"
)
_LATE = (
    "SELECT DISTINCT shard FROM webhook_inbox "
    "WHERE error IS NULL AND received_at < now() - make_interval(secs => %s)"
)
_BACKLOG = (
    "SELECT count(*) FILTER (WHERE error IS NULL), count(*) FILTER (WHERE error IS NOT NULL), "
    "COALESCE(EXTRACT(EPOCH FROM now() - min(received_at) FILTER (WHERE error IS NULL)), 0) "
    "FROM webhook_inbox"
)


@dataclass(frozen=True)
class Row:
    id: int
    channel: str
    body: bytes
    shards: int


@dataclass(frozen=True)
class Backlog:
    waiting: int
    parked: int
    oldest_seconds: float


class Connections:
    """Autocommit connections kept for reuse. Not psycopg_pool: its getconn waits out its
    timeout while PostgreSQL is down, where a webhook must fail at once (WhatsApp retries);
    here a missing connection is opened on the spot and a broken one is never put back."""

    def __init__(self, url: str, *, keep: int = 16) -> None:
        self._url = url
        self._keep = keep
        self._idle: deque[psycopg.Connection] = deque()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        conn = self._checkout()
        try:
            yield conn
        finally:
            if conn.broken or conn.closed or len(self._idle) >= self._keep:
                conn.close()
            else:
                self._idle.append(conn)

    def close(self) -> None:
        """Close the idle connections (all of them, after PostgreSQL restarted)."""
        while self._idle:
            try:
                self._idle.pop().close()
            except IndexError:
                return

    def _checkout(self) -> psycopg.Connection:
        """An idle connection the server has not closed (checked without a round trip, as
        the engine's are), else a new one."""
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return psycopg.connect(self._url, autocommit=True, connect_timeout=2)
            try:
                check_idle_connection(conn)
                return conn
            except psycopg.OperationalError:
                conn.close()


@lru_cache
def pool() -> Connections:
    """This process's inbox connections (made after fork in workers: tasks.runtime.reset)."""
    return Connections(libpq_url(database_url()))


def reset() -> None:
    """Forget the connections, unclosed: after fork they are the parent's."""
    pool.cache_clear()


def close() -> None:
    if pool.cache_info().currsize:
        pool().close()


def add(*, channel: str, body: bytes, shards: Sequence[int], count: int) -> None:
    """Commit the body, one row per shard it names, in one statement. A connection that
    broke since its last use (PostgreSQL restarted) is dropped by the pool: try once more."""
    for attempt in (1, 2):
        try:
            with pool().connection() as conn:
                conn.execute(_INSERT, (channel, body, list(shards), count))
            return
        except psycopg.OperationalError:
            if attempt == 2:
                raise
            pool().close()  # the other idle ones are likely as dead


@contextmanager
def shard_lock(shard: int, *, wait_ms: int) -> Iterator[psycopg.Connection | None]:
    """A connection holding the shard's drain lock, or None if another drainer kept it for
    `wait_ms`. The lock belongs to the connection: a killed drainer's goes with it."""
    with pool().connection() as conn:
        conn.execute(f"SET lock_timeout = {int(wait_ms)}")
        try:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (_LOCK_NAMESPACE, shard))
            locked = True
        except psycopg.errors.LockNotAvailable:
            locked = False
        conn.execute("RESET lock_timeout")
        if not locked:
            yield None
            return
        try:
            yield conn
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (_LOCK_NAMESPACE, shard))


def take(conn: psycopg.Connection, shard: int, limit: int) -> list[Row]:
    """The shard's next rows, oldest first."""
    return [Row(*values) for values in conn.execute(_TAKE, (shard, limit)).fetchall()]


def remove(conn: psycopg.Connection, row_id: int) -> None:
    conn.execute("DELETE FROM webhook_inbox WHERE id = %s", (row_id,))


def park(conn: psycopg.Connection, row_id: int, error: str) -> None:
    """Keep the row for a person, out of every drain."""
    conn.execute("UPDATE webhook_inbox SET error = %s WHERE id = %s", (error, row_id))


def late_shards(older_than_seconds: float) -> list[int]:
    """Shards with a row waiting longer than this."""
    with pool().connection() as conn:
        return sorted(shard for (shard,) in conn.execute(_LATE, (older_than_seconds,)))


def backlog() -> Backlog:
    with pool().connection() as conn:
        row = conn.execute(_BACKLOG).fetchone()
    assert row is not None
    return Backlog(int(row[0]), int(row[1]), float(row[2]))


def claim_triggers(shards: Sequence[int], *, ms: int = TRIGGER_MS) -> list[int]:
    """The shards whose key this call set (for `ms`): their drains are the caller's."""
    client = _redis()
    if len(shards) == 1:
        won = [client.set(_TRIGGER_KEY.format(shards[0]), 1, nx=True, px=ms)]
    else:
        pipe = client.pipeline(transaction=False)
        for shard in shards:
            pipe.set(_TRIGGER_KEY.format(shard), 1, nx=True, px=ms)
        won = pipe.execute()
    return [shard for shard, set_ in zip(shards, won, strict=True) if set_]


def hold_trigger(shard: int) -> None:
    _redis().set(_TRIGGER_KEY.format(shard), 1, px=TRIGGER_MS)


def clear_trigger(shard: int) -> None:
    _redis().delete(_TRIGGER_KEY.format(shard))


def _redis() -> redis.Redis:
    return process_buffer().client
