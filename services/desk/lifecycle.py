"""A conversation's life cycle: open -> pending (waiting for the customer) -> resolved.

A customer message reopens a pending or resolved conversation; resolving hands it back to
the AI, clears the call for a person and sends the customer a survey (services.csat); a
silent conversation nobody needs a person for resolves itself after AUTO_RESOLVE_HOURS
(tasks.desk)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from persistence.models import Conversation, ConversationMode, ConversationStatus, Priority
from services.access.auth import Principal
from services.conversations import audit
from services.conversations.conversation import lock_conversation
from services.csat.survey import offer_survey
from services.errors import Conflict
from services.handoff.handoff import customer_waiting

PRIORITY_ORDER = list(Priority)


def resolve(
    session: Session, conversation_id: int, principal: Principal | None, *, auto: bool = False
) -> Conversation:
    """Resolved by `principal` (None: the system). The AI answers the conversation again."""
    conversation = lock_conversation(session, conversation_id)
    if conversation.status == ConversationStatus.RESOLVED:
        return conversation
    conversation.status = ConversationStatus.RESOLVED
    conversation.resolved_at = datetime.now(UTC)
    conversation.resolved_by = principal.name if principal else "system"
    conversation.mode = ConversationMode.AI
    conversation.assigned_operator_id = None
    conversation.assigned_to = None
    conversation.needs_human = False
    conversation.needs_human_since = None
    action = "auto_resolved" if auto else "resolved"
    audit.record(session, conversation_id=conversation_id, action=action, principal=principal)
    offer_survey(session, conversation, principal)
    return conversation


def reopen(
    session: Session, conversation_id: int, principal: Principal | None, *, why: str = "operator"
) -> Conversation:
    conversation = lock_conversation(session, conversation_id)
    if conversation.status == ConversationStatus.OPEN:
        return conversation
    was = conversation.status
    conversation.status = ConversationStatus.OPEN
    conversation.resolved_at = None
    conversation.resolved_by = None
    audit.record(session, conversation_id=conversation_id, action="reopened",
                 principal=principal, detail={"from": str(was), "by": why})  # fmt: skip
    return conversation


def reopen_on_customer_message(session: Session, conversation_id: int, status: str) -> None:
    """A customer wrote: their conversation is open again, whatever it was (`status`: as
    it was read with the message stored)."""
    if status != ConversationStatus.OPEN:
        reopen(session, conversation_id, None, why="customer_message")


def mark_pending(session: Session, conversation_id: int, principal: Principal) -> Conversation:
    """Waiting for the customer: only when our side had the last word."""
    conversation = lock_conversation(session, conversation_id)
    if customer_waiting(session, conversation_id):
        raise Conflict(
            f"conversation {conversation_id}: the customer's last message is unanswered; "
            "answer it before marking the conversation pending"
        )
    if conversation.status != ConversationStatus.PENDING:
        was = conversation.status
        conversation.status = ConversationStatus.PENDING
        audit.record(session, conversation_id=conversation_id, action="pending",
                     principal=principal, detail={"from": str(was)})  # fmt: skip
    return conversation


def set_priority(
    session: Session, conversation_id: int, priority: Priority, principal: Principal | None
) -> Conversation:
    conversation = lock_conversation(session, conversation_id)
    if conversation.priority != priority:
        audit.record(session, conversation_id=conversation_id, action="priority",
                     principal=principal,
                     detail={"from": str(conversation.priority), "to": str(priority)})  # fmt: skip
        conversation.priority = priority
    return conversation


def raise_priority(session: Session, conversation_id: int, priority: Priority) -> None:
    """The AI may raise a priority, never lower one a person set."""
    conversation = lock_conversation(session, conversation_id)
    if PRIORITY_ORDER.index(priority) > PRIORITY_ORDER.index(conversation.priority):
        set_priority(session, conversation_id, priority, None)


def due_for_auto_resolve(session: Session, *, now: datetime, hours: float) -> list[int]:
    """Unresolved conversations with the AI, nobody asked for, silent for `hours`."""
    if hours <= 0:
        return []
    stmt = select(Conversation.id).where(*_due(now, hours))
    return list(session.scalars(stmt.order_by(Conversation.id).limit(500)))


def auto_resolve(session: Session, conversation_id: int, *, now: datetime, hours: float) -> bool:
    """Resolve it if it is still due (checked again under the row's lock)."""
    lock_conversation(session, conversation_id)
    still_due = select(Conversation.id).where(Conversation.id == conversation_id, *_due(now, hours))
    if hours <= 0 or session.scalar(still_due) is None:
        return False
    resolve(session, conversation_id, None, auto=True)
    return True


def _due(now: datetime, hours: float) -> tuple[ColumnElement[bool], ...]:
    last_heard = func.coalesce(Conversation.last_inbound_at, Conversation.created_at)
    return (
        Conversation.status != ConversationStatus.RESOLVED,
        Conversation.mode == ConversationMode.AI,
        Conversation.needs_human.is_(False),
        last_heard < now - timedelta(hours=hours),
    )
