"""Routing reads the conversation's mode from the database: the one source of truth."""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime

from graph.context import TurnContext
from graph.state import ConversationState
from persistence.db import session_scope
from persistence.models import Conversation, ConversationMode
from settings import get_settings


def route_turn(
    state: ConversationState, runtime: Runtime[TurnContext]
) -> Literal["agent", "silent"]:
    with session_scope() as session:
        conversation = session.get(Conversation, runtime.context.conversation_id)
        if conversation is None:  # deleted while its turn ran
            raise LookupError(f"conversation {runtime.context.conversation_id} no longer exists")
        mode, waiting = conversation.mode, conversation.needs_human
    if mode != ConversationMode.AI:
        return "silent"
    # Once the AI has asked for a person it stays quiet until one acts (configurable).
    return "silent" if waiting and get_settings().handoff_pauses_ai else "agent"


def silent(state: ConversationState) -> dict:
    """Operator mode: the messages are recorded in the history; the AI says nothing."""
    return {"reply": None, "outcome": "silent"}
