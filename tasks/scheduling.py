"""Scheduling after a commit, from the API or a tool: best effort by design. The rows are
durable already, and the sweeper finds whatever a broker outage kept from being queued."""

from __future__ import annotations

from typing import Any

from observability.logs import get_logger

log = get_logger(__name__)


def best_effort(task: Any, *args: Any, **options: Any) -> None:
    try:
        task.apply_async(args, **options)
    except Exception as exc:  # kombu and redis raise many kinds; none is the caller's failure
        log.warning("task.schedule_failed", task=task.name, error=type(exc).__name__)
