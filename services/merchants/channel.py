"""Channel accounts: the WhatsApp Cloud numbers, Twilio WhatsApp senders and Instagram
accounts through which a merchant's customers write (`phone_numbers` rows, by `type`).

Each type keeps its provider id in `phone_number_id` (Meta's phone number id, the Twilio
sender, the Instagram account id) and its secret, encrypted, in `access_token`. Removing an
account that still has conversations is refused unless forced: they would go with it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from persistence.models import ChannelType, PhoneNumber
from services.errors import Conflict, InvalidInput, NotFound
from services.merchants.account import conversation_count
from services.merchants.merchant import add_phone_number, get_merchant

# What PATCH may change per type (credentials are replaced, never read back).
EDITABLE: dict[str, tuple[str, ...]] = {
    ChannelType.WHATSAPP_CLOUD: ("access_token", "display_phone_number", "catalog_id"),
    ChannelType.TWILIO_WHATSAPP: ("access_token", "account_sid", "content_sids"),
    ChannelType.INSTAGRAM: ("access_token", "display_phone_number"),
}


def add_channel(
    session: Session,
    *,
    merchant_id: int,
    type: str,
    external_id: str,
    secret: str,
    display_name: str | None = None,
    account_sid: str | None = None,
    content_sids: dict[str, Any] | None = None,
) -> PhoneNumber:
    """Connect an account; the same provider id twice (any merchant) is a Conflict."""
    return add_phone_number(
        session, merchant_id=merchant_id, type=type, phone_number_id=external_id,
        access_token=secret, display_phone_number=display_name, account_sid=account_sid,
        content_sids=content_sids,
    )  # fmt: skip


def list_channels(
    session: Session, merchant_id: int, *, type: str | None = None
) -> list[PhoneNumber]:
    get_merchant(session, merchant_id)
    stmt = select(PhoneNumber).where(PhoneNumber.merchant_id == merchant_id)
    if type is not None:
        stmt = stmt.where(PhoneNumber.type == type)
    return list(session.scalars(stmt.order_by(PhoneNumber.id)))


def get_channel(session: Session, *, merchant_id: int, channel_id: int) -> PhoneNumber:
    account = session.get(PhoneNumber, channel_id)
    if account is None or account.merchant_id != merchant_id:
        raise NotFound(f"channel {channel_id} does not exist")
    return account


def update_channel(
    session: Session, *, merchant_id: int, channel_id: int, changes: dict[str, Any]
) -> PhoneNumber:
    """Apply the changes this type allows; a field of another type is refused (422)."""
    account = get_channel(session, merchant_id=merchant_id, channel_id=channel_id)
    allowed = EDITABLE[account.type]
    for field, value in changes.items():
        if value is None:
            continue
        if field not in allowed:
            raise InvalidInput(f"{field} cannot be set on a {account.type} account")
        setattr(account, field, value)
    session.flush()
    return account


def delete_channel(
    session: Session, *, merchant_id: int, channel_id: int, force: bool = False
) -> None:
    account = get_channel(session, merchant_id=merchant_id, channel_id=channel_id)
    held = conversation_count(session, account.id)
    if held and not force:
        raise Conflict(
            f"channel {channel_id} has {held} conversations: pass force=true to delete them"
        )
    session.execute(delete(PhoneNumber).where(PhoneNumber.id == account.id))
