"""Conversations as operators see them."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import PrincipalDep, SessionDep
from api.schemas import AuditEventRead, ConversationDetail, ConversationRead, MessageRead
from persistence.models import ConversationMode
from services.conversations import audit, history
from services.conversations.conversation import get_conversation

router = APIRouter(prefix="/api/v1", tags=["conversations"])


@router.get("/conversations")
def list_conversations(
    session: SessionDep,
    principal: PrincipalDep,
    mode: ConversationMode | None = None,
    needs_human: bool | None = None,
    merchant_id: int | None = None,
    updated_since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ConversationRead]:
    """Conversations, most recently active first, with optional filters."""
    rows = history.list_conversations(
        session,
        mode=mode,
        needs_human=needs_human,
        merchant_id=principal.scope(merchant_id),
        updated_since=updated_since,
        limit=limit,
        offset=offset,
    )
    return [ConversationRead.model_validate(c) for c in rows]


@router.get("/conversations/{conversation_id}")
def conversation_detail(
    conversation_id: int, session: SessionDep, _: PrincipalDep
) -> ConversationDetail:
    """A conversation with its latest messages (each with wamid, author and delivery status)."""
    conversation = get_conversation(session, conversation_id)
    messages = history.messages_of(session, conversation_id)
    return ConversationDetail(
        **ConversationRead.model_validate(conversation).model_dump(),
        messages=[MessageRead.model_validate(m) for m in messages],
        audit=[AuditEventRead.model_validate(e) for e in audit.trail(session, conversation_id)],
    )
