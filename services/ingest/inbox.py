"""Deferred ingest: POST /webhook keeps the signed body, a worker does the rest.

The webhook checks the signature and the body's shape, commits the body to the inbox and
answers: a 200 means the notification is durable, not yet stored in its tables. A drainer
takes one shard's rows in arrival order and runs `intake` on each, as the webhook did
before, then deletes the row. A conversation's notifications always fall in one shard (a
hash of the number and the customer) and one drainer holds a shard at a time, so they are
handled in the order they came. Handling is idempotent (a message once per wamid, statuses
never move back), so a row handled again after a killed drainer changes nothing.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass

import psycopg
import redis
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from channels.webhook import (
    InboundMessage,
    Notification,
    OtherChange,
    StatusUpdate,
    load_json,
    parse_notification,
)
from observability.logs import get_logger
from observability.metrics import WEBHOOK_INBOX_PARKED
from persistence import inbox, jobs
from persistence.models import ChannelType
from services import failpoints
from services.ingest.flows import Scheduler, intake
from settings import get_settings

log = get_logger(__name__)

DRAIN_TASK = "switchboard.ingest.drain"
BATCH = 100
# a drain hands over to a fresh task after this long, far inside the task's time limit
DRAIN_SECONDS = 30.0
# the database or Redis went away: the row stays for the next drain, never parked
TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError, InterfaceError, PoolTimeout, psycopg.OperationalError, redis.RedisError,
)  # fmt: skip

Item = InboundMessage | StatusUpdate | OtherChange


@dataclass
class Drained:
    handled: int = 0
    parked: int = 0
    busy: bool = False  # another drainer held the shard
    more: bool = False  # stopped at DRAIN_SECONDS with rows left


def accept(
    notification: Notification, body: bytes, *, channel: str = ChannelType.WHATSAPP_CLOUD
) -> None:
    """Commit the body for the drainers, then wake the shards it names (best effort: the
    beat's sweep drains what no trigger reached)."""
    count = get_settings().inbox_shards
    shards = shards_of(notification, count)
    if not shards:
        return  # nothing in it to handle
    inbox.add(channel=channel, body=body, shards=shards, count=count)
    failpoints.hit("webhook.after_store")  # durable now; WhatsApp has no answer yet
    trigger(shards)


def trigger(shards: list[int]) -> None:
    """Publish a drain for each shard no drain is pending or running for."""
    try:
        won = inbox.claim_triggers(shards)
    except (redis.RedisError, OSError) as exc:
        log.warning("inbox.trigger_unavailable", error=type(exc).__name__)
        return
    for shard in won:
        if not jobs.send(jobs.Job(DRAIN_TASK, (shard,))):
            _clear_trigger(shard)  # the next webhook tries again


def shards_of(notification: Notification, count: int) -> list[int]:
    return sorted({shard_of(item, count) for item in _items(notification)})


def shard_of(item: Item, count: int) -> int:
    """The same shard for every notification of a conversation: its number and customer."""
    if isinstance(item, InboundMessage):
        key = f"{item.phone_number_id}/{item.sender.wa_id or item.sender.user_id}"
    elif isinstance(item, StatusUpdate):
        key = f"{item.phone_number_id}/{item.recipient_wa_id or item.recipient_user_id}"
    else:
        key = item.entry_id or ""
    return zlib.crc32(key.encode()) % count


def part_of(notification: Notification, shard: int, count: int) -> Notification:
    """What of a notification falls in this shard (all of it, but for a batch that names
    several conversations: one row per shard, each handling its own)."""
    return Notification(
        tuple(m for m in notification.messages if shard_of(m, count) == shard),
        tuple(s for s in notification.statuses if shard_of(s, count) == shard),
        tuple(o for o in notification.others if shard_of(o, count) == shard),
    )


def drain(
    shard: int,
    scheduler: Scheduler,
    *,
    wait_ms: int = 5000,
    fatal: tuple[type[BaseException], ...] = (),
) -> Drained:
    """Handle the shard's rows in order until none is left (or DRAIN_SECONDS pass).
    `fatal`: errors that end the drain with the row kept (the caller's time limit)."""
    drained = Drained()
    deadline = time.monotonic() + DRAIN_SECONDS
    with inbox.shard_lock(shard, wait_ms=wait_ms) as conn:
        if conn is None:
            drained.busy = True
            return drained
        while not drained.more and (rows := _next(conn, shard)):
            for row in rows:
                _handle(conn, row, shard, scheduler, drained, fatal)
            drained.more = time.monotonic() > deadline
    return drained


def _next(conn: psycopg.Connection, shard: int) -> list[inbox.Row]:
    """The next rows; when there are none, the trigger goes first and then one more look,
    so a row committed after that look has set the trigger again, and been published."""
    rows = inbox.take(conn, shard, BATCH)
    if rows:
        _hold_trigger(shard)
        return rows
    _clear_trigger(shard)
    return inbox.take(conn, shard, BATCH)


def _handle(
    conn: psycopg.Connection,
    row: inbox.Row,
    shard: int,
    scheduler: Scheduler,
    drained: Drained,
    fatal: tuple[type[BaseException], ...],
) -> None:
    try:
        notification = part_of(parse_notification(load_json(row.body)), shard, row.shards)
    except (ValueError, RecursionError) as exc:
        _park(conn, row, "unparseable", exc, drained)
        return
    for attempt in (1, 2):  # a second try first: a race with another writer passes
        try:
            intake(notification, scheduler, channel=row.channel)
            break
        except (*TRANSIENT, *fatal):
            raise
        except Exception as exc:
            if attempt == 2:
                _park(conn, row, "failed", exc, drained)
                return
    failpoints.hit("ingest.drain.before_delete")  # handled, still in the inbox
    inbox.remove(conn, row.id)
    drained.handled += 1


def _park(
    conn: psycopg.Connection, row: inbox.Row, reason: str, exc: Exception, drained: Drained
) -> None:
    """Never a stuck shard: the row waits for a person, counted and logged."""
    WEBHOOK_INBOX_PARKED.labels(reason).inc()
    log.error("whatsapp.inbox.parked", row_id=row.id, reason=reason, error=repr(exc)[:500])
    inbox.park(conn, row.id, f"{reason}: {exc!r}"[:2000])
    drained.parked += 1


def drain_all(scheduler: Scheduler) -> Drained:
    """Every shard with a waiting row, in turn, in this process (tests, scripts)."""
    total = Drained()
    for shard in inbox.late_shards(0.0):
        drained = drain(shard, scheduler)
        total.handled += drained.handled
        total.parked += drained.parked
    return total


def backlog() -> inbox.Backlog:
    return inbox.backlog()


def rescue(*, older_than_seconds: float) -> list[int]:
    """Shards with a row waiting this long and no drain pending or running: the caller
    publishes their drains (a shard being drained keeps its trigger held)."""
    late = inbox.late_shards(older_than_seconds)
    return inbox.claim_triggers(late) if late else []


def _hold_trigger(shard: int) -> None:
    """Keep the trigger while this drain runs: no sweep or webhook publishes another."""
    try:
        inbox.hold_trigger(shard)
    except (redis.RedisError, OSError) as exc:
        log.warning("inbox.trigger_unavailable", error=type(exc).__name__)


def _clear_trigger(shard: int) -> None:
    try:
        inbox.clear_trigger(shard)
    except (redis.RedisError, OSError) as exc:  # it expires; the sweep drains meanwhile
        log.warning("inbox.trigger_unavailable", error=type(exc).__name__)


def _items(notification: Notification) -> list[Item]:
    return [*notification.messages, *notification.statuses, *notification.others]
