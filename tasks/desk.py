"""The desk's timers on the `state` queue: auto-resolve, offline operators, round-robin."""

from __future__ import annotations

from datetime import UTC, datetime

from persistence.db import session_scope
from services.desk import assignment, timers
from tasks import app


@app.task(name="switchboard.housekeeping.desk_timers", ignore_result=True)
def desk_timers(now: str | None = None) -> dict[str, int]:
    """`now` (ISO 8601) lets a test run the timers at a given moment."""
    moment = datetime.fromisoformat(now) if now else datetime.now(UTC)
    with session_scope() as session:
        work = timers.due_work(session, now=moment)
    resolved = 0
    for conversation_id in work.due:
        with session_scope() as session:
            resolved += timers.auto_resolve(session, conversation_id, now=moment)
    for conversation_id in work.queued:
        with session_scope() as session:
            assignment.route(session, conversation_id, now=moment)
    return {"resolved": resolved, "returned": len(work.returned), "queued": len(work.queued)}


@app.task(name="switchboard.housekeeping.route_conversation", ignore_result=True)
def route_conversation(conversation_id: int) -> int | None:
    """Round-robin: give a conversation that needs a person to an online operator."""
    with session_scope() as session:
        return assignment.route(session, conversation_id)
