"""Writing an outbound message row (a library file, an offer, products) for the outbox to
send, and reading back the products one carries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from channels.base import Card, OutboundCards, OutboundProducts
from persistence.models import Author, DeliveryStatus, Direction, Message


def add_outbound(
    session: Session,
    *,
    conversation_id: int,
    author: Author,
    type: str,
    text: str | None,
    turn_id: int | None,
    seq: int,
    operator_id: int | None = None,
    raw: dict[str, Any] | None = None,
    media: dict[str, Any] | None = None,
) -> Message:
    """Add a pending row. Within a turn, once per (turn, seq): a redone turn finds the row
    it wrote instead of sending it twice."""
    values: dict[str, Any] = {
        "conversation_id": conversation_id, "direction": Direction.OUTBOUND, "author": author,
        "type": type, "text": text, "media": media, "status": DeliveryStatus.PENDING,
        "operator_id": operator_id, "send_attempts": 0, "raw": raw,
    }  # fmt: skip
    if turn_id is None:
        message = Message(**values)
        session.add(message)
        session.flush()
        return message
    session.execute(
        insert(Message)
        .values(**values, turn_id=turn_id, seq=seq)
        .on_conflict_do_nothing(constraint="uq_messages_turn_reply_part")
    )
    return session.scalars(
        select(Message).where(
            Message.turn_id == turn_id, Message.direction == Direction.OUTBOUND, Message.seq == seq
        )
    ).one()


def stored_cards(raw: dict[str, Any]) -> OutboundCards:
    """The cards a row keeps in raw["cards"] (services.commerce.showcase)."""
    return OutboundCards(tuple(Card(**card) for card in raw["cards"]))


def stored_products(raw: dict[str, Any]) -> OutboundProducts:
    """The catalog message a row keeps in raw["products"] (services.commerce.showcase)."""
    products = raw["products"]
    return OutboundProducts(
        catalog_id=str(products["catalog_id"]),
        retailer_ids=tuple(str(i) for i in products["retailer_ids"]),
        body=str(products.get("body") or ""),
        header=products.get("header"),
    )
