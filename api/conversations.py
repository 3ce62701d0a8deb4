"""Conversations as operators see them."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from api.customer_schemas import ConversationDetail, ConversationListItem
from api.deps import PrincipalDep, SessionDep
from api.desk_schemas import NoteRead
from api.schemas import AuditEventRead, MessageRead
from persistence.models import ConversationMode, ConversationStatus
from services.conversations import audit, history
from services.conversations.listing import (
    ConversationFilter,
    conversation_summary,
    list_conversations,
)
from services.desk import notes
from services.desk.assignment import assignee_filter
from services.desk.labels import normalise

router = APIRouter(prefix="/api/v1", tags=["conversations"])


@router.get("/conversations")
def conversations(
    session: SessionDep,
    principal: PrincipalDep,
    mode: ConversationMode | None = None,
    needs_human: bool | None = None,
    merchant_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    updated_since: datetime | None = None,
    customer: Annotated[
        str | None,
        Query(min_length=1, max_length=128, pattern=r"^\+?[A-Za-z0-9._-]+$",
              description="The customer's wa_id (a leading + is ignored) or business-scoped "
              "user id."),
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200,
              description="Words in the conversation's messages (full text, web search "
              "syntax: \"quoted phrase\", -word, or), or part of the customer's name, "
              "username, number or user id. Best matches first."),
    ] = None,
    assigned_to: Annotated[
        str | None,
        Query(pattern=r"^(me|none|[1-9][0-9]{0,9})$",
              description="`me` (the caller's), `none` (unassigned) or an operator id."),
    ] = None,
    label: Annotated[str | None, Query(min_length=1, max_length=60)] = None,
    status: ConversationStatus | None = None,
    channel: Annotated[
        Literal["whatsapp_cloud", "twilio_whatsapp", "instagram"] | None,
        Query(description="Only conversations on this kind of channel account."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ConversationListItem]:
    """Conversations with their channel, customer, last message and unanswered count; the
    most recently updated first (best match first with `q`). Filters combine."""
    filters = ConversationFilter(
        mode=mode, needs_human=needs_human, merchant_id=principal.scope(merchant_id),
        updated_since=updated_since, customer=customer, q=(q or "").strip() or None,
        assigned_to=assignee_filter(assigned_to, principal), status=status,
        label=normalise(label) if label else None, channel=channel,
    )  # fmt: skip
    rows = list_conversations(session, filters, limit=limit, offset=offset)
    return [ConversationListItem.of(row) for row in rows]


@router.get("/conversations/{conversation_id}", responses={404: {}})
def conversation_detail(
    conversation_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep, _: PrincipalDep
) -> ConversationDetail:
    """A conversation with its customer, channel and latest messages (each with wamid,
    author and delivery status)."""
    summary = conversation_summary(session, conversation_id)
    messages = history.messages_of(session, conversation_id)
    return ConversationDetail(
        **ConversationListItem.of(summary).model_dump(),
        messages=[MessageRead.model_validate(m) for m in messages],
        audit=[AuditEventRead.model_validate(e) for e in audit.trail(session, conversation_id)],
        notes=[NoteRead.model_validate(n) for n in notes.notes_of(session, conversation_id)],
    )
