"""Reading conversations and their messages for operators and the API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import Conversation, ConversationMode, Message, PhoneNumber


def list_conversations(
    session: Session,
    *,
    mode: ConversationMode | None = None,
    needs_human: bool | None = None,
    merchant_id: int | None = None,
    updated_since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Conversation]:
    stmt = select(Conversation).order_by(Conversation.updated_at.desc(), Conversation.id.desc())
    if mode is not None:
        stmt = stmt.where(Conversation.mode == mode)
    if needs_human is not None:
        stmt = stmt.where(Conversation.needs_human == needs_human)
    if merchant_id is not None:
        stmt = stmt.join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id).where(
            PhoneNumber.merchant_id == merchant_id
        )
    if updated_since is not None:
        stmt = stmt.where(Conversation.updated_at >= updated_since)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def messages_of(session: Session, conversation_id: int, *, limit: int = 500) -> list[Message]:
    """The latest `limit` messages, oldest first."""
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed(list(session.scalars(stmt))))
