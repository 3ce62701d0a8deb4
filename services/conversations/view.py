"""One conversation as the console shows it: the parties, every message with its author
and delivery state, the audit trail and the 24-hour customer service window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import (
    AuditEvent,
    Conversation,
    Customer,
    Direction,
    MediaAsset,
    MediaStatus,
    Merchant,
    MerchantUser,
    Message,
    Operator,
    PhoneNumber,
)
from persistence.storage import StorageError, get_storage
from services.conversations import audit, history
from services.conversations.conversation import conversation_parties
from services.conversations.window import SERVICE_WINDOW, within_service_window
from services.media.library import read_asset
from services.merchants.merchant import find_merchant_user


@dataclass(frozen=True)
class ServiceWindow:
    open: bool
    closes_at: datetime | None  # None: the customer never wrote

    @property
    def seconds_left(self) -> float:
        if not self.open or self.closes_at is None:
            return 0.0
        return max(0.0, (self.closes_at - datetime.now(UTC)).total_seconds())


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    customer: Customer
    phone: PhoneNumber
    merchant: Merchant
    staff: MerchantUser | None
    messages: list[Message]
    operator_names: dict[int, str]
    audit: list[AuditEvent]
    window: ServiceWindow


def service_window(conversation: Conversation) -> ServiceWindow:
    last = conversation.last_inbound_at
    return ServiceWindow(
        open=within_service_window(conversation),
        closes_at=last + SERVICE_WINDOW if last else None,
    )


def conversation_view(session: Session, conversation_id: int) -> ConversationView:
    conversation, customer, phone = conversation_parties(session, conversation_id)
    merchant = session.get(Merchant, phone.merchant_id)
    assert merchant is not None
    messages = history.messages_of(session, conversation_id)
    operator_ids = {m.operator_id for m in messages if m.operator_id is not None}
    names: dict[int, str] = {}
    if operator_ids:
        stmt = select(Operator.id, Operator.name).where(Operator.id.in_(operator_ids))
        names = {row.id: row.name for row in session.execute(stmt)}
    return ConversationView(
        conversation=conversation,
        customer=customer,
        phone=phone,
        merchant=merchant,
        staff=find_merchant_user(
            session, merchant_id=merchant.id, wa_id=customer.wa_id, user_id=customer.user_id
        ),
        messages=messages,
        operator_names=names,
        audit=audit.trail(session, conversation_id),
        window=service_window(conversation),
    )


def message_of(session: Session, conversation_id: int, message_id: int) -> Message | None:
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != conversation_id:
        return None
    return message


def message_file(session: Session, message: Message) -> tuple[bytes, str, str] | None:
    """The bytes, MIME type and file name behind a message's media: the customer's stored
    file, or the library file an outbound message sent (None when there is none)."""
    media = message.media or {}
    try:
        if message.direction == Direction.INBOUND:
            if message.media_status != MediaStatus.STORED or not message.media_key:
                return None
            mime = str(media.get("mime_type") or "application/octet-stream")
            name = str(media.get("filename") or message.media_key.rsplit("/", 1)[-1])
            return get_storage().get(message.media_key), mime, name
        asset = session.get(MediaAsset, media.get("asset_id")) if media.get("asset_id") else None
        if asset is None:
            return None
        return read_asset(asset), asset.mime_type, asset.filename
    except StorageError:
        return None
