"""Health and figures for /health and /stats."""

from __future__ import annotations

from typing import Any

import redis
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from graph.llm import configured_providers
from persistence.buffer import Buffer
from persistence.models import Conversation, Direction, Message, RejectedWebhook
from settings import get_settings

QUEUES = ("default", "messages", "state", "status")


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
    providers = configured_providers(get_settings())
    return {"configured": bool(providers), "providers": providers}


def queue_depths(client: redis.Redis) -> dict[str, int]:
    return {queue: int(client.llen(queue)) for queue in QUEUES}


def conversation_figures(session: Session) -> dict[str, Any]:
    by_mode = dict(
        session.execute(select(Conversation.mode, func.count()).group_by(Conversation.mode)).all()
    )
    needs_human = session.scalar(select(func.count()).where(Conversation.needs_human.is_(True)))
    by_direction = dict(
        session.execute(select(Message.direction, func.count()).group_by(Message.direction)).all()
    )
    rejected = dict(
        session.execute(
            select(RejectedWebhook.reason, func.count()).group_by(RejectedWebhook.reason)
        ).all()
    )
    return {
        "conversations": {str(k): v for k, v in by_mode.items()},
        "webhook_rejections": rejected,
        "needs_human": needs_human or 0,
        "messages": {
            "in": by_direction.get(Direction.INBOUND, 0),
            "out": by_direction.get(Direction.OUTBOUND, 0),
        },
    }


def buffered(buffer: Buffer) -> int:
    return buffer.open_bursts()
