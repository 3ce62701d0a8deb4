"""Degraded mode: what a customer gets when no model can answer (none configured, or every
provider failing).

A question a published FAQ surely answers gets that answer, sent as it is written
(services.knowledge.auto_answer) and marked `auto_answer`; nobody is flagged, since the
customer has their answer. Anything else gets the holding message, once per outage, and a
person is flagged (services.handoff.handoff.escalate_after_failure).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from channels.whatsapp_format import to_whatsapp
from observability.logs import get_logger
from persistence.models import ConversationMode, Message, TurnResult
from services.conversations.conversation import conversation_parties
from services.handoff.handoff import escalate_after_failure
from services.knowledge.auto_answer import confident_answer
from services.merchants.merchant import find_merchant_user
from services.turns.input import inbound_of_turn

log = get_logger(__name__)


@dataclass(frozen=True)
class Fallback:
    text: str | None  # None: nothing to send (the holding message went out already)
    outcome: TurnResult  # AUTO_ANSWERED or NEEDS_HUMAN


def answer_without_model(
    session: Session, *, conversation_id: int, turn_id: int, reason: str
) -> Fallback:
    answer = _auto_answer(session, conversation_id, turn_id)
    if answer is not None:
        return Fallback(answer, TurnResult.AUTO_ANSWERED)
    return Fallback(
        escalate_after_failure(session, conversation_id, reason), TurnResult.NEEDS_HUMAN
    )


def _auto_answer(session: Session, conversation_id: int, turn_id: int) -> str | None:
    conversation, customer, phone = conversation_parties(session, conversation_id)
    if conversation.mode != ConversationMode.AI:
        return None
    staff = find_merchant_user(
        session, merchant_id=phone.merchant_id, wa_id=customer.wa_id, user_id=customer.user_id
    )
    if staff is not None:  # the merchant's own people answer requests, not FAQs
        return None
    for question in questions(inbound_of_turn(session, turn_id)):
        found = confident_answer(
            session, merchant_id=phone.merchant_id, question=question, language=customer.language
        )
        if found is not None:
            log.info("turn.auto_answer", document_id=found.document_id, match=found.title_match)
            return to_whatsapp(found.content) or None
    return None


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|[¿¡\n]+")


def questions(burst: list[Message]) -> list[str]:
    """What to look up: the whole burst, each message, then each sentence, the latest first
    (a greeting before the question, in its own message or sentence, would lower the match
    of the question below the strict threshold)."""
    texts = [t.strip() for m in burst if (t := m.text or m.transcript or "").strip()]
    sentences = [s.strip() for t in reversed(texts) for s in reversed(_SENTENCE_END.split(t))]
    candidates = [" ".join(texts), *reversed(texts), *sentences]
    return [c for c in dict.fromkeys(candidates) if c]
