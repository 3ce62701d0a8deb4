"""Inbound media fetch: WhatsApp's short-lived URLs into our storage."""

from __future__ import annotations

from typing import Any

from celery import Task
from sqlalchemy.exc import OperationalError

from services.media.flows import MediaFetchRetry, fetch_inbound_media, give_up
from tasks import app


class _FetchTask(Task):
    def on_failure(
        self, exc: Exception, task_id: str, args: tuple, kwargs: dict[str, Any], einfo: Any
    ) -> None:
        # retries exhausted: say so on the message, or the sweeper would schedule it forever
        if isinstance(exc, MediaFetchRetry) and args:
            give_up(int(args[0]), str(exc))


@app.task(
    name="switchboard.media.fetch",
    base=_FetchTask,
    autoretry_for=(MediaFetchRetry, OperationalError),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=6,
)
def fetch(message_id: int) -> str:
    return fetch_inbound_media(message_id)
