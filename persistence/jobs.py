"""Work scheduled from a transaction: queued on the session, sent once it commits.

A service says `enqueue(session, "switchboard.notifications.dispatch", notification.id)`;
nothing leaves the process until the outermost transaction commits, and a rollback forgets
it, so a worker never reads rows that are not there yet and no task follows a change that
did not happen. One listener sends every job by task name (routes from celeryconfig), so
services schedule work without importing the task modules.

Sending is best effort by design: the rows are durable already, and the sweeper finds
whatever a broker outage kept from being queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from celery import Celery
from sqlalchemy import event
from sqlalchemy.orm import Session

from observability.logs import get_logger

log = get_logger(__name__)

_KEY = "switchboard.jobs"
_app: Celery | None = None


@dataclass(frozen=True)
class Job:
    task: str
    args: tuple[Any, ...]
    countdown: float | None = None


def enqueue(session: Session, task: str, *args: Any, countdown: float | None = None) -> None:
    """Send `task(*args)` to a worker once this session's transaction commits."""
    session.info.setdefault(_KEY, []).append(Job(task, args, countdown))


def use_app(app: Celery) -> None:
    """Send through this process's Celery app (the worker's own) rather than a client."""
    global _app
    _app = app


def send(job: Job) -> bool:
    """Send one job now, best effort: False when the broker would not take it."""
    try:
        celery_client().send_task(job.task, args=job.args, countdown=job.countdown)
    except Exception as exc:  # kombu and redis raise many kinds; none is the caller's failure
        log.warning("task.schedule_failed", task=job.task, error=type(exc).__name__)
        return False
    return True


def celery_client() -> Celery:
    """The Celery app this process sends with (and pings workers through)."""
    global _app
    if _app is None:
        _app = Celery("switchboard", set_as_current=False)
        _app.config_from_object("celeryconfig")
    return _app


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT was released: not durable yet
        return
    for job in session.info.pop(_KEY, []):
        send(job)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_KEY, None)
