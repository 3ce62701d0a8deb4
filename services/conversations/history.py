"""Reading conversations and their messages for operators and the API."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import Message


def messages_of(session: Session, conversation_id: int, *, limit: int = 500) -> list[Message]:
    """The latest `limit` messages, oldest first."""
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed(list(session.scalars(stmt))))
