"""Delivery statuses from webhooks, applied in order on the `status` queue."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.exc import OperationalError

from channels.webhook import StatusError, StatusUpdate
from persistence.db import session_scope
from services.delivery.outbox import apply_status
from tasks import app


def status_to_json(status: StatusUpdate) -> dict[str, Any]:
    data = asdict(status)
    data["timestamp"] = status.timestamp.isoformat()
    return data


def status_from_json(data: dict[str, Any]) -> StatusUpdate:
    return StatusUpdate(
        **{
            **data,
            "timestamp": datetime.fromisoformat(data["timestamp"]),
            "errors": tuple(StatusError(**e) for e in data.get("errors") or ()),
        }
    )


def apply_statuses(statuses: list[StatusUpdate]) -> int:
    with session_scope() as session:
        return sum(1 for status in statuses if apply_status(session, status))


@app.task(
    name="switchboard.status.apply",
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    max_retries=8,
)
def apply(statuses: list[dict[str, Any]]) -> int:
    return apply_statuses([status_from_json(s) for s in statuses])
