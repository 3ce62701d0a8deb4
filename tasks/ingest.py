"""Deferred ingest: drain the webhook inbox, one shard at a time, on the `messages` queue."""

from __future__ import annotations

from dataclasses import asdict

from celery.exceptions import SoftTimeLimitExceeded

from services.ingest import inbox
from services.ingest.flows import default_scheduler
from settings import get_settings
from tasks import app


@app.task(
    name=inbox.DRAIN_TASK,
    ignore_result=True,
    autoretry_for=inbox.TRANSIENT,
    retry_backoff=1,
    max_retries=8,
)
def drain(shard: int) -> dict[str, int | bool]:
    drained = inbox.drain(shard, default_scheduler(), fatal=(SoftTimeLimitExceeded,))
    if drained.more:  # hand over to a fresh task; the shard's trigger is still held
        drain.delay(shard)
    return asdict(drained)


@app.task(name="switchboard.ingest.sweep", ignore_result=True)
def sweep() -> list[int]:
    """Shards with a row older than a sweep and no drain pending (its trigger lost with
    Redis, its task with a worker): drain them."""
    shards = inbox.rescue(older_than_seconds=get_settings().inbox_sweep_seconds)
    for shard in shards:
        drain.delay(shard)
    return shards
