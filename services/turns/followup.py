"""The short message a waiting customer gets when no colleague has picked them up yet."""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage
from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.whatsapp_format import to_whatsapp
from graph.llm import LLMNotConfigured, LLMUnavailable, build_agent_model, invoke_agent_model
from observability.logs import get_logger
from persistence.models import Direction, Message
from services.conversations.conversation import conversation_parties
from services.handoff.phrases import FOLLOW_UP, phrase, speaks
from services.handoff.promise import closed_promise
from settings import get_settings

log = get_logger(__name__)

DEFAULT_TEXT = FOLLOW_UP["en"]
_INSTRUCTION = (
    "Write one short, warm WhatsApp sentence telling the customer that a human colleague "
    "has been asked to help and will reply in this chat soon. Write it in the language of "
    "the customer's message below. Reply with the sentence only."
)


def follow_up_text(session: Session, conversation_id: int) -> str:
    """In the customer's language: a fixed translation when we have one, else written by the
    model; English when no model answers. Outside business hours it says when we open."""
    text = _follow_up(session, conversation_id)
    closed = closed_promise(session, conversation_id)
    return f"{text} {closed}" if closed else text


def _follow_up(session: Session, conversation_id: int) -> str:
    _, customer, _ = conversation_parties(session, conversation_id)
    if speaks(FOLLOW_UP, customer.language):
        return phrase(FOLLOW_UP, customer.language)
    last = session.scalar(
        select(Message.text)
        .where(Message.conversation_id == conversation_id, Message.direction == Direction.INBOUND)
        .order_by(Message.id.desc())
        .limit(1)
    )
    if not last:
        return DEFAULT_TEXT
    try:
        model = build_agent_model(get_settings(), light=True)  # one sentence: the small model
        reply = invoke_agent_model(model, [SystemMessage(_INSTRUCTION), HumanMessage(last[:500])])
    except (LLMNotConfigured, LLMUnavailable) as exc:
        log.info("handoff.followup.default", reason=type(exc).__name__)
        return DEFAULT_TEXT
    return to_whatsapp(reply.text) or DEFAULT_TEXT
