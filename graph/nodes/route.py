"""Routing reads the conversation's mode from the database: the one source of truth."""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime

from graph.context import TurnContext
from graph.state import ConversationState
from persistence.db import session_scope
from persistence.models import Conversation, ConversationMode


def route_turn(
    state: ConversationState, runtime: Runtime[TurnContext]
) -> Literal["agent", "silent"]:
    with session_scope() as session:
        mode = session.get(Conversation, runtime.context.conversation_id).mode
    return "agent" if mode == ConversationMode.AI else "silent"


def silent(state: ConversationState) -> dict:
    """Operator mode: the messages are recorded in the history; the AI says nothing."""
    return {"reply": None, "outcome": "silent"}
