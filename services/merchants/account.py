"""Account management: changing and removing merchants, their numbers and their staff.

Removal is deliberately conservative: a merchant or number that still has conversations is
refused (409) unless the caller passes `force`, because deleting it deletes those
conversations, their messages and their notifications with it (database cascade).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from persistence.models import ChannelType, Conversation, Merchant, MerchantUser, PhoneNumber
from services.errors import Conflict, NotFound
from services.merchants.merchant import get_merchant


def conversation_count(session: Session, *phone_ids: int) -> int:
    if not phone_ids:
        return 0
    stmt = select(func.count()).where(Conversation.phone_number_id.in_(phone_ids))
    return session.scalar(stmt) or 0


def delete_merchant(session: Session, merchant_id: int, *, force: bool = False) -> None:
    """Delete the merchant and everything it owns; refused while it has conversations."""
    merchant = get_merchant(session, merchant_id)
    phone_ids = session.scalars(
        select(PhoneNumber.id).where(PhoneNumber.merchant_id == merchant_id)
    ).all()
    held = conversation_count(session, *phone_ids)
    if held and not force:
        raise Conflict(
            f"merchant {merchant_id} has {held} conversations: pass force=true to delete them too"
        )
    # the database cascades (ON DELETE CASCADE) remove what it owns in one statement
    session.execute(delete(Merchant).where(Merchant.id == merchant.id))


def get_phone_number(session: Session, *, merchant_id: int, phone_number_id: str) -> PhoneNumber:
    """The merchant's number by Meta's id; another merchant's number does not exist here."""
    phone = session.scalar(
        select(PhoneNumber).where(
            PhoneNumber.merchant_id == merchant_id,
            PhoneNumber.type == ChannelType.WHATSAPP_CLOUD,
            PhoneNumber.phone_number_id == phone_number_id,
        )
    )
    if phone is None:
        raise NotFound(f"phone number {phone_number_id} does not exist")
    return phone


def update_phone_number(
    session: Session, *, merchant_id: int, phone_number_id: str, changes: dict[str, Any]
) -> PhoneNumber:
    """Replace the access token (encrypted by the column type) or the display number."""
    phone = get_phone_number(session, merchant_id=merchant_id, phone_number_id=phone_number_id)
    for field in ("access_token", "display_phone_number"):
        if changes.get(field) is not None:
            setattr(phone, field, changes[field])
    session.flush()
    return phone


def delete_phone_number(
    session: Session, *, merchant_id: int, phone_number_id: str, force: bool = False
) -> None:
    """Disconnect a number; its conversations are deleted with it, so refuse unless forced."""
    phone = get_phone_number(session, merchant_id=merchant_id, phone_number_id=phone_number_id)
    held = conversation_count(session, phone.id)
    if held and not force:
        raise Conflict(
            f"number {phone_number_id} has {held} conversations: pass force=true to delete them"
        )
    session.execute(delete(PhoneNumber).where(PhoneNumber.id == phone.id))


def get_merchant_user(session: Session, *, merchant_id: int, merchant_user_id: int) -> MerchantUser:
    user = session.get(MerchantUser, merchant_user_id)
    if user is None or user.merchant_id != merchant_id:
        raise NotFound(f"merchant user {merchant_user_id} does not exist")
    return user


def update_merchant_user(
    session: Session, *, merchant_id: int, merchant_user_id: int, changes: dict[str, Any]
) -> MerchantUser:
    user = get_merchant_user(session, merchant_id=merchant_id, merchant_user_id=merchant_user_id)
    for field, value in changes.items():
        if field in ("name", "type") and value is None:
            continue
        setattr(user, field, value.lower() if field == "type" else value)
    if not (user.wa_id or user.user_id):
        raise Conflict("a merchant user needs a wa_id or a user_id to be reachable on WhatsApp")
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict("this merchant already has a user with that WhatsApp id") from exc
    return user


def delete_merchant_user(session: Session, *, merchant_id: int, merchant_user_id: int) -> None:
    """Remove a staff member. Their open notifications stay open: only the record that this
    person was asked goes, so the request still waits for the remaining staff and operators
    (the console's notification list, the reminder timers); answers they gave keep their
    text with `answered_by_user_id` emptied."""
    user = get_merchant_user(session, merchant_id=merchant_id, merchant_user_id=merchant_user_id)
    session.execute(delete(MerchantUser).where(MerchantUser.id == user.id))
