"""Offers in the outbox, fitted to the channel when they are sent, and the customer's
answers to them read back as the option they chose."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from channels.base import Channel, OutboundMessage, OutboundText
from channels.webhook import choice_of
from observability.logs import get_logger
from persistence.models import Author, DeliveryStatus, Direction, Message
from services.interactive.offer import (
    Offer,
    Option,
    interactive,
    number_picked,
    numbered_answer,
    numbered_text,
)
from services.outbound import add_outbound

log = get_logger(__name__)

# A turn's replies are seq 0, 1, ...; library files 1000 + asset id; an offer made in a
# turn takes this plus a hash of its content, so a redone turn finds the row it wrote.
TURN_OFFER_SEQ = 1_000_000_000
# our messages since the customer's previous one searched for the offer a number answers
_OFFER_LOOKBACK = 5
TEXT_LIMIT = 4096  # a text message's body on every channel we have


def enqueue_offer(
    session: Session,
    *,
    conversation_id: int,
    offer: Offer,
    author: Author,
    turn_id: int | None = None,
    operator_id: int | None = None,
    raw: dict[str, Any] | None = None,
) -> Message:
    """Put an offer in the outbox (its body as the text). Within a turn, once per offer."""
    return add_outbound(
        session, conversation_id=conversation_id, author=author, type="interactive",
        text=offer.body, turn_id=turn_id, seq=TURN_OFFER_SEQ + _content_hash(offer),
        operator_id=operator_id, raw={**(raw or {}), "offer": offer.to_json()},
    )  # fmt: skip


def _content_hash(offer: Offer) -> int:
    digest = hashlib.sha256(json.dumps(offer.to_json(), sort_keys=True).encode()).digest()
    return int.from_bytes(digest[:4]) % 1_000_000_000


def offer_of(message: Message) -> Offer | None:
    data = (message.raw or {}).get("offer")
    return Offer.from_json(data) if isinstance(data, dict) else None


def fit_offer(message: Message, channel: Channel) -> OutboundMessage:
    """What an offer row sends on this channel: its interactive message, or numbered text
    when the channel has none or would refuse it (too many options, a title too long).
    The row records which, so the console shows it and a "2" can be read back."""
    offer = offer_of(message)
    assert offer is not None, "an interactive outbox row carries its offer"
    outbound = interactive(offer)
    reason = (
        channel.refusal(outbound)
        if channel.capabilities.interactive
        else "the channel has no interactive messages"
    )
    if reason is None:
        message.raw = {**(message.raw or {}), "offer": {**offer.to_json(), "sent_as": offer.kind}}
        return outbound
    log.info("interactive.fallback.numbered", message_id=message.id, reason=reason)
    fallback = {**offer.to_json(), "sent_as": "numbered", "fallback_reason": reason}
    message.raw = {**(message.raw or {}), "offer": fallback}
    message.type = "text"
    message.text = numbered_text(offer)[:TEXT_LIMIT]
    return OutboundText(message.text)


def choices_of(session: Session, inbound: list[Message]) -> dict[int, tuple[str, str]]:
    """Inbound message id -> (option id, title) for the messages that answer an offer: a
    tapped button or list row, or a number answering our last message sent as numbered text."""
    choices: dict[int, tuple[str, str]] = {}
    for message in inbound:
        tapped = choice_of(message.raw) if message.type in ("interactive", "button") else None
        if tapped is not None:
            choices[message.id] = (tapped.id, tapped.title)
        elif message.type == "text":
            option = _numbered_choice(session, message)
            if option is not None:
                choices[message.id] = (option.id, option.title)
    return choices


def _numbered_choice(session: Session, message: Message) -> Option | None:
    """The option a number picks from our latest offer since the customer's previous
    message, when that offer went out as numbered text (a short text after it is fine)."""
    if number_picked(message.text) is None:
        return None  # no offer makes it a choice: no need to look the offer up
    previous = (
        select(func.max(Message.id))
        .where(
            Message.conversation_id == message.conversation_id,
            Message.direction == Direction.INBOUND,
            Message.id < message.id,
        )
        .scalar_subquery()
    )
    since = session.scalars(
        select(Message)
        .where(
            Message.conversation_id == message.conversation_id,
            Message.direction == Direction.OUTBOUND,
            Message.id < message.id,
            Message.id > func.coalesce(previous, 0),
            Message.status.not_in([DeliveryStatus.FAILED, DeliveryStatus.DROPPED]),
        )
        .order_by(Message.id.desc())
        .limit(_OFFER_LOOKBACK)
    )
    offer = next((o for o in map(offer_of, since) if o is not None), None)
    return numbered_answer(offer, message.text) if offer is not None else None
