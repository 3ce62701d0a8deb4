"""Figures at a glance: messages per hour, AI versus human answers, open escalations and
the work queues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.console import charts
from api.console.auth import ConsoleUserDep, redis_of
from api.console.templating import render
from api.deps import SessionDep
from services.console import stats as console_stats
from services.monitoring import health as monitoring

router = APIRouter(prefix="/console/stats", include_in_schema=False)


def _queues(request: Request) -> list[tuple[str, int]]:
    try:
        client = redis_of(request)
        depths = monitoring.queue_depths(client)
        depths["open bursts"] = monitoring.buffered(request.app.state.buffer())
    except (redis.RedisError, OSError):
        return []
    return list(depths.items())


def _context(request: Request, db: Session, merchant_id: int | None) -> dict[str, Any]:
    """The figures of the operator's merchant (all merchants' for a platform operator); the
    work queues are shared, and their depths name no merchant."""
    hours = console_stats.messages_per_hour(db, hours=24, merchant_id=merchant_id)
    since = datetime.now(UTC) - timedelta(hours=24)
    day = console_stats.answer_share(db, since=since, merchant_id=merchant_id)
    ever = console_stats.answer_share(db, merchant_id=merchant_id)
    queues = _queues(request)
    return {
        "hourly": charts.for_every_width(charts.hourly_bars, hours, label_every=6),
        "messages_24h": sum(b.total for b in hours),
        "share_day": day,
        "share_day_chart": charts.share_bar(
            [
                ("AI", day.ai, "s-ai"), ("automatic answers", day.auto_answer, "s-auto"),
                ("holding messages", day.holding, "s-holding"), ("people", day.human, "s-op"),
            ]  # fmt: skip
        ),
        "share_ever": ever,
        "escalations": console_stats.open_escalations(db, merchant_id=merchant_id),
        "open_notifications": console_stats.open_notifications(db, merchant_id=merchant_id),
        "taken_over": console_stats.taken_over(db, merchant_id=merchant_id),
        "queues": queues,
        "queues_chart": (
            charts.for_every_width(charts.level_bars, queues, label_w=100) if queues else None
        ),
    }


@router.get("")
def stats_page(request: Request, db: SessionDep, user: ConsoleUserDep) -> Response:
    context = _context(request, db, user.principal.scope())
    return render(request, "stats.html", {"user": user, **context})


@router.get("/live")
def stats_live(request: Request, db: SessionDep, user: ConsoleUserDep) -> Response:
    context = _context(request, db, user.principal.scope())
    return render(request, "_stats.html", {"user": user, **context})
