"""Storing what the WhatsApp Business app reports (coexistence): the business's own
replies typed on its phone, the chat history shared at onboarding, and its contacts.

An echo is the business speaking: stored once (by wamid) as an outbound message authored
by the Business app, and a takeover (services.handoff.business_app). History is the past:
stored once, attached to a finished turn of its own so no burst, sweep or later turn ever
answers it. Contacts give names to customers the business knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from channels.coexistence import AppContact, ChatMessage, Coexistence
from observability.logs import get_logger
from persistence.models import (
    Author,
    ChannelType,
    Customer,
    DeliveryStatus,
    Direction,
    Message,
    RejectedWebhook,
    TurnResult,
)
from services.conversations.conversation import upsert_conversation, upsert_customer
from services.handoff.business_app import business_app_spoke
from services.handoff.handoff import BUSINESS_APP, INSTAGRAM_APP
from services.ingest.aside import set_aside
from services.merchants import merchant as merchants

log = get_logger(__name__)


@dataclass
class CoexistenceResult:
    stored: list[int] = field(default_factory=list)
    duplicates: int = 0
    rejected: int = 0


def record_coexistence(
    session: Session, coexistence: Coexistence, *, channel: str = ChannelType.WHATSAPP_CLOUD
) -> CoexistenceResult:
    result = CoexistenceResult()
    for reason, raw in coexistence.invalid:
        _reject(session, "invalid_coexistence", {"reason": reason, "raw": raw}, None, result)
    for echo in coexistence.echoes:
        _record_echo(session, echo, result, channel)
    _record_history(session, coexistence.history, result)
    for contact in coexistence.contacts:
        _record_contact(session, contact)
    return result


def _record_echo(
    session: Session, echo: ChatMessage, result: CoexistenceResult, channel: str
) -> None:
    conversation_id = _conversation_of(session, echo, result, channel)
    if conversation_id is None:
        return
    message_id = _store(session, conversation_id, echo, turn_id=None)
    if message_id is None:
        result.duplicates += 1
        return
    result.stored.append(message_id)
    app = INSTAGRAM_APP if channel == ChannelType.INSTAGRAM else BUSINESS_APP
    took_over = business_app_spoke(session, conversation_id, by=app)
    log.info(
        "whatsapp.echo.stored",
        conversation_id=conversation_id,
        message_id=message_id,
        took_over=took_over,
    )


def _record_history(
    session: Session, messages: tuple[ChatMessage, ...], result: CoexistenceResult
) -> None:
    """New history messages join one finished `imported` turn per conversation."""
    new: dict[int, list[int]] = {}
    for message in sorted(messages, key=lambda m: m.timestamp):
        conversation_id = _conversation_of(session, message, result)
        if conversation_id is None:
            continue
        message_id = _store(session, conversation_id, message, turn_id=None)
        if message_id is None:
            result.duplicates += 1
            continue
        result.stored.append(message_id)
        new.setdefault(conversation_id, []).append(message_id)
    for conversation_id, message_ids in new.items():
        set_aside(
            session, conversation_id=conversation_id, message_ids=message_ids,
            outcome=TurnResult.IMPORTED,
        )  # fmt: skip
    if new:
        log.info("whatsapp.history.stored", conversations=len(new), messages=len(result.stored))


def _conversation_of(
    session: Session,
    message: ChatMessage,
    result: CoexistenceResult,
    channel: str = ChannelType.WHATSAPP_CLOUD,
) -> int | None:
    phone = merchants.find_phone_number(session, message.phone_number_id, type=channel)
    if phone is None:
        _reject(session, "unknown_phone_number", message.raw, message.phone_number_id, result)
        return None
    customer = upsert_customer(
        session,
        merchant_id=phone.merchant_id,
        wa_id=message.customer.wa_id,
        user_id=message.customer.user_id,
    )
    return upsert_conversation(session, phone_id=phone.id, customer_id=customer.id).id


def _store(
    session: Session, conversation_id: int, message: ChatMessage, *, turn_id: int | None
) -> int | None:
    """Store the message once; its id if it is new (None: already stored)."""
    business = message.from_business
    stmt = (
        insert(Message)
        .values(
            conversation_id=conversation_id,
            direction=Direction.OUTBOUND if business else Direction.INBOUND,
            author=Author.BUSINESS_APP if business else Author.CUSTOMER,
            wamid=message.wamid,
            type=message.type[:32],
            text=message.text,
            raw=message.raw,
            wa_timestamp=message.timestamp,
            status=DeliveryStatus.SENT if business else DeliveryStatus.RECEIVED,
            status_at=message.timestamp if business else None,
            turn_id=turn_id,
            send_attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["wamid"])
        .returning(Message.id)
    )
    return session.scalar(stmt)


def _record_contact(session: Session, contact: AppContact) -> None:
    """A name from the business's address book, for a customer who has none yet."""
    phone = merchants.find_phone_number(session, contact.phone_number_id)
    if phone is None or contact.removed or not contact.name:
        return
    customer = session.scalar(
        select(Customer).where(
            Customer.merchant_id == phone.merchant_id, Customer.wa_id == contact.wa_id
        )
    )
    if customer is None:
        upsert_customer(
            session, merchant_id=phone.merchant_id, wa_id=contact.wa_id, user_id=None,
            profile_name=contact.name[:200],
        )  # fmt: skip
    elif not customer.profile_name:
        customer.profile_name = contact.name[:200]


def _reject(
    session: Session,
    reason: str,
    payload: object,
    phone_number_id: str | None,
    result: CoexistenceResult,
) -> None:
    session.add(RejectedWebhook(reason=reason, phone_number_id=phone_number_id, payload=payload))
    result.rejected += 1
