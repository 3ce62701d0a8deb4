"""A customer's "stop" (or "start") to order updates, read in ingest before any turn: a
message that is only one of those words, at a merchant with a store connected, switches
them off (or on again) and is answered at once; it never reaches the AI."""

from __future__ import annotations

from sqlalchemy.orm import Session

from observability.logs import get_logger
from persistence import jobs
from persistence.models import Author, Conversation, Merchant, Message
from services.commerce import order_wording
from services.commerce.order_updates import SEND_TASK
from services.commerce.queries import store_of
from services.conversations.conversation import conversation_parties
from services.outbound import add_outbound

log = get_logger(__name__)


def keyword_of(message_type: str, text: str | None) -> str | None:
    """"stop" or "start" when a message is one of the order-updates words."""
    return order_wording.keyword(text) if message_type == "text" else None


def take_keyword(session: Session, conversation: Conversation, message: Message) -> bool:
    """Whether `message` was a stop/start to order updates (stored and answered)."""
    word = keyword_of(message.type, message.text)
    if word is None:
        return False
    _, customer, phone = conversation_parties(session, conversation.id)
    if store_of(session, phone.merchant_id) is None:
        return False  # no orders here: an ordinary message
    customer.order_updates_opt_out = word == "stop"
    merchant = session.get(Merchant, phone.merchant_id)
    language = customer.language or (merchant.default_language if merchant else None)
    text = order_wording.stopped(language) if word == "stop" else order_wording.started(language)
    reply = add_outbound(
        session, conversation_id=conversation.id, author=Author.SYSTEM, type="text", text=text,
        turn_id=None, seq=0, raw={"order_updates": word},
    )  # fmt: skip
    jobs.enqueue(session, SEND_TASK, reply.id)
    log.info("orders.updates." + ("stopped" if word == "stop" else "started"),
             customer_id=customer.id)  # fmt: skip
    return True
