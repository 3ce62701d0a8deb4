"""The business answering from the WhatsApp Business app (coexistence) is a takeover.

The owner's reply typed on their phone reaches the customer without us; the AI must then
step aside exactly as for an operator's takeover: the conversation goes to operator mode
(so an AI reply being written is dropped by the check right before delivery), and the
idle timer (services.handoff.handoff.hand_back_if_idle) gives it back to the AI later.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from persistence.models import ConversationMode
from services.conversations import audit
from services.events import events
from services.handoff.handoff import BUSINESS_APP, lock


def business_app_spoke(session: Session, conversation_id: int, *, by: str = BUSINESS_APP) -> bool:
    """Record the business's activity from the app (`by`: which one); True when this took
    the conversation over from the AI. An operator who already has it keeps it (and stays
    active)."""
    conversation = lock(session, conversation_id)
    now = datetime.now(UTC)
    conversation.operator_active_at = now
    if conversation.mode == ConversationMode.OPERATOR:
        return False
    conversation.mode = ConversationMode.OPERATOR
    conversation.assigned_operator_id = None
    conversation.assigned_to = by
    conversation.taken_over_at = now
    conversation.needs_human = False
    conversation.needs_human_since = None
    audit.record(session, conversation_id=conversation_id, action="takeover", detail={"by": by})
    events.emit(session, "taken_over", conversation_id=conversation_id, operator=by)
    return True
