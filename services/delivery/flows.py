"""Delivery workflows that own their transactions: the AI sending a library file now."""

from __future__ import annotations

from sqlalchemy import select

from persistence.db import session_scope
from persistence.models import Author, DeliveryStatus, MediaAsset, Message
from services.delivery.outbox import send_pending
from services.media.send import MediaUnavailable, enqueue_asset


def send_asset(
    *, conversation_id: int, turn_id: int, asset_id: int, caption: str
) -> tuple[DeliveryStatus, str | None]:
    """The AI sends a library file now (before its text reply), only while in AI mode.

    Returns the delivery status and, when it did not go out, why."""
    with session_scope() as session:
        asset = session.get(MediaAsset, asset_id)
        if asset is None:
            raise MediaUnavailable(f"media asset {asset_id} was deleted from the library")
        message = enqueue_asset(
            session, conversation_id=conversation_id, asset=asset, caption=caption,
            author=Author.AI, turn_id=turn_id,
        )  # fmt: skip
        message_id = message.id
    status = send_pending(message_id, only_in_ai_mode=True)
    with session_scope() as session:
        detail = session.scalar(select(Message.error_detail).where(Message.id == message_id))
    return status, detail
