"""Delivery statuses from webhooks, applied in order on the `status` queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import OperationalError

from channels.webhook import status_from_json
from services.parking.flows import apply_statuses
from tasks import app


@app.task(
    name="switchboard.status.apply",
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    max_retries=8,
)
def apply(statuses: list[dict[str, Any]]) -> int:
    return apply_statuses([status_from_json(s) for s in statuses])
