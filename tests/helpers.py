"""Small helpers shared by integration tests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from channels.simulators.webhooks import sign
from tests.conftest import APP_SECRET

T = TypeVar("T")
DATA_DIR = Path(__file__).parent / "data"


def load_payload(name: str) -> dict:
    """A recorded webhook payload from tests/data (name with or without ".json")."""
    filename = name if name.endswith(".json") else f"{name}.json"
    return json.loads((DATA_DIR / filename).read_text(encoding="utf-8"))


def post_webhook(
    client: Any, payload: dict | bytes, *, secret: str = APP_SECRET, drain: bool = True
) -> Any:
    """POST /webhook signed. With `drain` (and an in-process app), the inbox rows it made
    are handled here, with the app's scheduler, before this returns: the notification is
    stored and scheduled as it was when the webhook did it all before its 200. The shards'
    triggers are held meanwhile, so no worker drains them instead."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    in_process = drain and hasattr(client, "app")
    held = _hold_triggers() if in_process else []
    try:
        response = client.post(
            "/webhook",
            content=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, secret)},
        )
        if in_process and response.status_code == 200:
            drain_inbox(client)
    finally:
        _release_triggers(held)
    return response


def drain_inbox(client: Any = None) -> Any:
    """Handle every waiting inbox row in this process, as the drain task does."""
    from services.ingest import inbox
    from services.ingest.flows import default_scheduler

    scheduler = getattr(getattr(client, "app", None), "state", None)
    return inbox.drain_all(getattr(scheduler, "scheduler", None) or default_scheduler())


def _hold_triggers() -> list[int]:
    import redis

    from persistence import inbox
    from settings import get_settings

    try:
        # long enough for a slow request; released (or taken by the drain) once it returns
        return inbox.claim_triggers(list(range(get_settings().inbox_shards)), ms=60_000)
    except (redis.RedisError, OSError):
        return []


def _release_triggers(shards: list[int]) -> None:
    import redis

    from persistence import inbox

    for shard in shards:
        try:
            inbox.clear_trigger(shard)
        except (redis.RedisError, OSError):
            return


def eventually(check: Callable[[], T], *, timeout: float = 20.0, interval: float = 0.1) -> T:
    """Poll until `check` returns something truthy (or stops raising AssertionError)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except AssertionError as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s: {last}")


def messages_in_db(**filters: Any) -> list[Any]:
    from sqlalchemy import select

    from persistence.db import session_scope
    from persistence.models import Message

    with session_scope() as session:
        stmt = select(Message).order_by(Message.id)
        for key, value in filters.items():
            stmt = stmt.where(getattr(Message, key) == value)
        return list(session.scalars(stmt))


def store_text(merchant: dict, text: str, *, written: datetime | None = None) -> int:
    """Record a customer's text message as the webhook would (no buffer, no turn); return
    its conversation's id. For tests that run turns in-process with tasks.runner.run."""
    from channels.simulators.webhooks import text_message_payload
    from channels.webhook import parse_notification
    from persistence.db import session_scope
    from services.ingest import ingest

    timestamp = int(written.timestamp()) if written else None
    payload = text_message_payload(
        phone_number_id=merchant["phone_number_id"], text=text, timestamp=timestamp
    )
    with session_scope() as session:
        result = ingest.record_notification(session, parse_notification(payload))
    (conversation_id,) = result.to_buffer
    return conversation_id


def operator_headers(client: Any, admin_token: str, name: str = "Olga") -> dict[str, str]:
    """A new operator's bearer header, made through the API."""
    made = client.post(
        "/api/v1/operators", headers={"Authorization": f"Bearer {admin_token}"}, json={"name": name}
    )
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}
