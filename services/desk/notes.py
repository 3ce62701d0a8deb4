"""Private notes: operators' notes on a conversation, never sent to the customer. A note
`for_ai` also becomes a team note the model reads (graph.nodes.load), through the handoff's
note messages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import ConversationNote
from services.access.auth import Principal
from services.conversations.conversation import conversation_parties
from services.handoff.handoff import add_note as add_team_note


def add(
    session: Session, conversation_id: int, *, text: str, for_ai: bool, principal: Principal
) -> ConversationNote:
    _, _, phone = conversation_parties(session, conversation_id)
    note = ConversationNote(
        conversation_id=conversation_id, merchant_id=phone.merchant_id,
        operator_id=principal.operator_id, author=principal.name, text=text, for_ai=for_ai,
    )  # fmt: skip
    if for_ai:
        note.message_id = add_team_note(
            session, conversation_id, f"Note from {principal.name}: {text}"
        ).id
    session.add(note)
    session.flush()
    return note


def notes_of(session: Session, conversation_id: int) -> list[ConversationNote]:
    stmt = select(ConversationNote).where(ConversationNote.conversation_id == conversation_id)
    return list(session.scalars(stmt.order_by(ConversationNote.id)))
