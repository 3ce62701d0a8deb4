"""Fold the turn's new messages (customer burst, operator and system notes) into the state."""

from __future__ import annotations

import heapq

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.runtime import Runtime

from graph.context import TurnContext
from graph.state import ConversationState
from persistence.db import session_scope
from persistence.models import Author, Direction, Message
from services.notifications import notifications
from services.turns import input as turn_input


def load_turn(state: ConversationState, runtime: Runtime[TurnContext]) -> dict:
    ctx = runtime.context
    with session_scope() as session:
        inbound = turn_input.inbound_of_turn(session, ctx.turn_id)
        notes = turn_input.notes_since(session, ctx.conversation_id, state.get("last_note_id", 0))
        quoted = {m.context_wamid for m in inbound if m.context_wamid}
        replies = notifications.replied_requests(session, quoted)
        new = _in_order(inbound, notes, ctx.turn_id, replies)
    update: dict = {"messages": new, "turn_id": ctx.turn_id, "reply": None}
    if notes:
        update["last_note_id"] = max(n.id for n in notes)
    return update


def _in_order(
    inbound: list[Message], notes: list[Message], turn_id: int, replies: dict[str, int]
) -> list[AnyMessage]:
    """Operator messages and notes interleaved with the customer's burst as they happened;
    consecutive customer messages become one human turn."""
    merged = heapq.merge(
        ((m.created_at, 0, m) for m in inbound), ((n.created_at, 1, n) for n in notes),
        key=lambda item: item[0],
    )  # fmt: skip
    result: list[AnyMessage] = []
    burst: list[Message] = []
    for _, _, message in merged:
        if message.author == Author.CUSTOMER:
            burst.append(message)
            continue
        result += _customer_messages(burst, turn_id, replies)
        burst = []
        result.append(_note_message(message))
    return result + _customer_messages(burst, turn_id, replies)


def _customer_messages(
    inbound: list[Message], turn_id: int, replies: dict[str, int]
) -> list[AnyMessage]:
    """One human turn. The media stay out of the state (only text is checkpointed); the
    agent attaches them to the prompt of the turn they arrived in."""
    lines = [_quoting(m, replies) + turn_input.render_inbound(m) for m in inbound]
    lines = [line for line in lines if line]
    if not lines:
        return []
    media = [m.id for m in inbound if m.media_status == "stored"]
    extra = {"turn_id": turn_id, "media_ids": media} if media else {}
    return [
        HumanMessage(content="\n".join(lines), id=f"in-{inbound[0].id}", additional_kwargs=extra)
    ]


def _quoting(message: Message, replies: dict[str, int]) -> str:
    """A WhatsApp reply to a notification's request message says which request it answers."""
    notification_id = replies.get(message.context_wamid or "")
    return f"[In reply to {notifications.ref(notification_id)}] " if notification_id else ""


def _note_message(message: Message) -> AnyMessage:
    if message.author == Author.OPERATOR:
        name = (message.raw or {}).get("operator", "colleague")
        return AIMessage(content=f"[Operator {name}] {message.text or ''}", id=f"op-{message.id}")
    if message.direction == Direction.OUTBOUND:  # what the business number sent (templates...)
        return AIMessage(content=message.text or "", id=f"sys-{message.id}")
    return HumanMessage(content=f"[Note] {message.text or ''}", id=f"note-{message.id}")
