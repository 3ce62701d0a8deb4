"""Health and figures for /health and /stats."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from graph.llm import configured_providers
from graph.llm_check import provider_problem
from observability.logs import get_logger
from persistence import jobs
from persistence.buffer import Buffer
from persistence.models import Conversation, Direction, Message, RejectedWebhook
from services.console.stats import answer_share, conversations_of, messages_of
from settings import Settings, get_settings

QUEUES = ("default", "messages", "state", "status")
log = get_logger(__name__)


def database_ok(session: Session) -> bool:
    try:
        session.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def redis_ok(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def llm_state() -> dict[str, Any]:
    """The configured providers and whether each answers, from a check at most
    LLM_CHECK_SECONDS old: a health probe every few seconds must not become LLM traffic."""
    settings = get_settings()
    providers = configured_providers(settings)
    checks = {provider: _checked(provider, settings) for provider in providers}
    return {
        "configured": bool(providers),
        "providers": providers,
        "reachable": any(check.problem is None for check in checks.values() if check.done),
        "checks": {provider: check.shown() for provider, check in checks.items()},
    }


@dataclass(frozen=True)
class _Check:
    problem: str | None
    at: float  # time.time()
    done: bool = True

    def shown(self) -> dict[str, Any]:
        if not self.done:
            return {"reachable": None, "detail": "being checked"}
        shown: dict[str, Any] = {
            "reachable": self.problem is None,
            "checked_at": datetime.fromtimestamp(self.at, UTC).isoformat(timespec="seconds"),
        }
        return shown | ({"detail": self.problem} if self.problem else {})


_checks: dict[tuple[str, ...], _Check] = {}
_checking = threading.Lock()


def _checked(provider: str, settings: Settings) -> _Check:
    # keyed by what the check depends on, so changed settings are checked afresh
    base_url = settings.gemini_base_url if provider == "gemini" else settings.openai_base_url
    model = settings.gemini_model if provider == "gemini" else settings.openai_model
    key = (provider, base_url or "", model)
    cached = _checks.get(key)
    if cached is not None and time.time() - cached.at < settings.llm_check_seconds:
        return cached
    if not _checking.acquire(blocking=False):  # another request is checking right now
        return cached or _Check(problem=None, at=time.time(), done=False)
    try:
        _checks[key] = _Check(problem=provider_problem(provider, settings), at=time.time())
    finally:
        _checking.release()
    return _checks[key]


def queue_depths(client: redis.Redis) -> dict[str, int]:
    """Tasks waiting per queue: Redis lists, or RabbitMQ's ready messages when the broker is
    amqp (countdown tasks a worker already holds are not counted there)."""
    if get_settings().broker_is_amqp:
        return _amqp_depths()
    return {queue: int(client.llen(queue)) for queue in QUEUES}


def _amqp_depths() -> dict[str, int]:
    try:
        with jobs.celery_client().connection_for_read() as connection:
            channel = connection.default_channel
            return {q: int(channel.queue_declare(q, passive=True).message_count) for q in QUEUES}
    except Exception as exc:  # an unreachable broker or a queue not declared yet
        log.warning("monitoring.broker_unavailable", error=type(exc).__name__)
        return {}


def conversation_figures(session: Session, *, merchant_id: int | None = None) -> dict[str, Any]:
    """Conversations, messages and replies: every merchant's, or one merchant's (then
    without the deployment's webhook rejections, which belong to no merchant)."""
    by_mode = dict(
        session.execute(
            select(Conversation.mode, func.count())
            .where(*conversations_of(merchant_id))
            .group_by(Conversation.mode)
        ).all()
    )
    needs_human = session.scalar(
        select(func.count()).where(
            Conversation.needs_human.is_(True), *conversations_of(merchant_id)
        )
    )
    by_direction = dict(
        session.execute(
            select(Message.direction, func.count())
            .where(*messages_of(merchant_id))
            .group_by(Message.direction)
        ).all()
    )
    figures: dict[str, Any] = {
        "conversations": {str(k): v for k, v in by_mode.items()},
        "needs_human": needs_human or 0,
        "messages": {
            "in": by_direction.get(Direction.INBOUND, 0),
            "out": by_direction.get(Direction.OUTBOUND, 0),
        },
        # replies that reached customers, by who wrote them (see services.console.stats)
        "replies": answer_share(session, merchant_id=merchant_id).as_dict(),
    }
    if merchant_id is None:
        figures["webhook_rejections"] = dict(
            session.execute(
                select(RejectedWebhook.reason, func.count()).group_by(RejectedWebhook.reason)
            ).all()
        )
    return figures


def buffered(buffer: Buffer) -> int:
    return buffer.open_bursts()
