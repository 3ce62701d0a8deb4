"""The desk's periodic work (tasks.desk): auto-resolve silent conversations, give back the
waiting conversations of operators gone offline, and route the queue (round-robin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from services.desk import assignment, lifecycle
from settings import get_settings


@dataclass(frozen=True)
class DeskWork:
    due: list[int]  # conversations to auto-resolve, each in its own transaction
    returned: list[int]
    queued: list[int]


def due_work(session: Session, *, now: datetime) -> DeskWork:
    settings = get_settings()
    return DeskWork(
        due=lifecycle.due_for_auto_resolve(session, now=now, hours=settings.auto_resolve_hours),
        returned=assignment.return_from_offline(session, now=now),
        queued=assignment.queued(session) if settings.assignment == "round_robin" else [],
    )


def auto_resolve(session: Session, conversation_id: int, *, now: datetime) -> bool:
    hours = get_settings().auto_resolve_hours
    return lifecycle.auto_resolve(session, conversation_id, now=now, hours=hours)
