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
from celery.utils import uuid
from celery.utils.quorum_queues import detect_quorum_queues
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
    _routes.clear()


def send(job: Job) -> bool:
    """Send one job now, best effort: False when the broker would not take it."""
    try:
        _publish(celery_client(), job)
    except Exception as exc:  # kombu and redis raise many kinds; none is the caller's failure
        log.warning("task.schedule_failed", task=job.task, error=type(exc).__name__)
        return False
    return True


# task name -> its routing options (queue, exchange), or None when only send_task will do
_routes: dict[str, dict[str, Any] | None] = {}


def _publish(app: Celery, job: Job) -> None:
    """What `app.send_task(task, args=..., countdown=...)` does, less what it redoes for
    every message: the route by task name (celeryconfig's task_routes), looked up once,
    and the checks for options we never pass (a third of its CPU on the webhook's path).
    The message is Celery's own (amqp.create_task_message), published through the app's
    producer pool with task_publish_retry_policy, on Redis and amqp brokers alike."""
    if job.task not in _routes:
        _routes[job.task] = _route(app, job.task)
    route = _routes[job.task]
    if route is None:
        app.send_task(job.task, args=job.args, countdown=job.countdown)
        return
    amqp = app.amqp
    root_id = parent_id = None
    parent = app.current_worker_task  # a task sending another: keep the trail, as Celery
    if parent is not None:
        root_id = parent.request.root_id or parent.request.id
        parent_id = parent.request.id
    message = amqp.create_task_message(
        uuid(), job.task, job.args, None, job.countdown,
        reply_to=app.thread_oid, root_id=root_id, parent_id=parent_id, ignore_result=None,
    )  # fmt: skip
    with app.producer_or_acquire() as producer:
        amqp.send_task_message(producer, job.task, message, **route)


def _route(app: Celery, task: str) -> dict[str, Any] | None:
    """The task's routing options, or None to leave it to send_task: a task registered
    in this process (its own options), quorum queues (countdowns go through RabbitMQ's
    delayed-delivery exchanges) or options beyond a queue in task_routes."""
    if app._tasks.get(task) is not None:
        return None
    options = dict(app.amqp.router.route({}, task, (), None, None))
    if set(options) - {"queue", "exchange", "routing_key", "exchange_type"}:
        return None
    driver = app.producer_pool.connections.connection.transport.driver_type
    if detect_quorum_queues(app, driver)[0]:
        return None
    return options


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
