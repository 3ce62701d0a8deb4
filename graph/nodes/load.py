"""Fold the turn's new messages (customer burst, operator and system notes) into the state."""

from __future__ import annotations

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.runtime import Runtime

from graph.context import TurnContext
from graph.state import ConversationState
from persistence.db import session_scope
from persistence.models import Author, Message
from services import turn_input


def load_turn(state: ConversationState, runtime: Runtime[TurnContext]) -> dict:
    ctx = runtime.context
    with session_scope() as session:
        inbound = turn_input.inbound_of_turn(session, ctx.turn_id)
        notes = turn_input.notes_since(session, ctx.conversation_id, state.get("last_note_id", 0))
        new = [*(_note_message(n) for n in notes), *_customer_messages(inbound)]
    update: dict = {"messages": new, "turn_id": ctx.turn_id, "reply": None}
    if notes:
        update["last_note_id"] = notes[-1].id
    return update


def _customer_messages(inbound: list[Message]) -> list[AnyMessage]:
    lines = [turn_input.render_inbound(m) for m in inbound]
    lines = [line for line in lines if line]
    if not lines:
        return []
    return [HumanMessage(content="\n".join(lines), id=f"in-{inbound[0].id}")]


def _note_message(message: Message) -> AnyMessage:
    if message.author == Author.OPERATOR:
        return AIMessage(content=f"[Operator] {message.text or ''}", id=f"op-{message.id}")
    return HumanMessage(
        content=f"[Note from the support team] {message.text or ''}", id=f"note-{message.id}"
    )
