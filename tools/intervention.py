"""request_intervention: hand the conversation to a human."""

from typing import Literal

from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, Field

from graph.context import TurnContext
from persistence.db import session_scope
from persistence.models import Priority
from services.desk.lifecycle import raise_priority
from services.handoff.promise import closed_note_for_model
from services.notifications.notifications import request_intervention as request_support


class InterventionArgs(BaseModel):
    reason: str = Field(
        min_length=3,
        max_length=1000,
        description="Why a human is needed, in one or two sentences, for the team.",
    )
    priority: Literal["normal", "high", "urgent"] | None = Field(
        default=None,
        description="Only if it cannot wait: high (angry customer, money at stake), urgent "
        "(safety, legal threats, a large order about to be lost).",
    )


@tool("request_intervention", args_schema=InterventionArgs)
def request_intervention(
    reason: str, runtime: ToolRuntime[TurnContext], priority: str | None = None
) -> str:
    """Ask a human colleague to take over this conversation: the customer asks for a person,
    is upset or complaining, or has a problem you cannot solve (damaged goods, refunds,
    account or payment problems). Not for a question the documents do not answer (that is
    request_notification). Then tell the customer a colleague will follow up here, with no
    promised time.
    """
    ctx = runtime.context
    with session_scope() as session:
        request_support(
            session, conversation_id=ctx.conversation_id, reason=reason, turn_id=ctx.turn_id
        )
        if priority:
            raise_priority(session, ctx.conversation_id, Priority(priority))
        closed = closed_note_for_model(session, ctx.conversation_id)
    return "A human colleague has been notified and will follow up in this chat." + closed
