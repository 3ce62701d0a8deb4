"""Routing follows the conversation's mode as the database has it (the one source of
truth), read with the turn's input (with the turn's start, or by the load node)."""

from __future__ import annotations

from typing import Literal

from graph.ports import TurnReading
from graph.state import ConversationState
from persistence.models import ConversationMode
from settings import get_settings


def ai_answers(reading: TurnReading) -> bool:
    """Whether the AI answers: not while an operator has the conversation, nor, once it has
    asked for a person, until one acts (configurable)."""
    if reading.mode != ConversationMode.AI:
        return False
    return not (reading.needs_human and get_settings().handoff_pauses_ai)


def route_turn(state: ConversationState) -> Literal["agent", "silent"]:
    return "agent" if state.get("answers") else "silent"


def silent(state: ConversationState) -> dict:
    """Operator mode: the messages are recorded in the history; the AI says nothing."""
    return {"reply": None, "outcome": "silent"}
