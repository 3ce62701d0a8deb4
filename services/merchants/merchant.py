"""Merchants, their WhatsApp numbers and their staff."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, case, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from persistence.models import ChannelType, Merchant, MerchantUser, PhoneNumber
from services.errors import Conflict, NotFound


def create_merchant(
    session: Session,
    *,
    name: str,
    description: str = "",
    tone: str = "friendly and concise",
    default_language: str = "en",
    whatsapp_business_account_id: str | None = None,
) -> Merchant:
    merchant = Merchant(
        name=name,
        description=description,
        tone=tone,
        default_language=default_language,
        whatsapp_business_account_id=whatsapp_business_account_id,
    )
    session.add(merchant)
    session.flush()
    return merchant


# The fields an admin may change after creation (PATCH /api/v1/merchants/{id}).
EDITABLE = (
    "name", "description", "tone", "default_language", "greeting", "ai_rules", "timezone",
    "opening_hours",
)  # fmt: skip


def update_merchant(session: Session, merchant_id: int, changes: dict[str, Any]) -> Merchant:
    """Set the given fields (validated by the caller); unknown keys are a programming error."""
    merchant = get_merchant(session, merchant_id)
    for field, value in changes.items():
        if field not in EDITABLE:
            raise ValueError(f"{field} cannot be changed")
        setattr(merchant, field, value)
    session.flush()
    return merchant


def get_merchant(session: Session, merchant_id: int) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound(f"merchant {merchant_id} does not exist")
    return merchant


def set_business_account(session: Session, merchant_id: int, waba_id: str | None) -> Merchant:
    """The WhatsApp Business Account that owns the merchant's numbers and templates."""
    merchant = get_merchant(session, merchant_id)
    merchant.whatsapp_business_account_id = waba_id or None
    session.flush()
    return merchant


def find_by_business_account(session: Session, waba_id: str) -> Merchant | None:
    stmt = select(Merchant).where(Merchant.whatsapp_business_account_id == waba_id)
    return session.scalars(stmt.order_by(Merchant.id)).first()


def list_merchants(session: Session, *, merchant_id: int | None = None) -> list[Merchant]:
    """Every merchant, or only `merchant_id` (a caller's own)."""
    stmt = select(Merchant).order_by(Merchant.id)
    if merchant_id is not None:
        stmt = stmt.where(Merchant.id == merchant_id)
    return list(session.scalars(stmt))


def add_phone_number(
    session: Session,
    *,
    merchant_id: int,
    phone_number_id: str,
    access_token: str,
    display_phone_number: str | None = None,
    catalog_id: str | None = None,
    type: str = ChannelType.WHATSAPP_CLOUD,
    account_sid: str | None = None,
    content_sids: dict[str, Any] | None = None,
) -> PhoneNumber:
    """Connect a channel account (a WhatsApp Cloud number unless `type` says otherwise);
    the same provider id twice for one type is a Conflict."""
    get_merchant(session, merchant_id)
    phone = PhoneNumber(
        merchant_id=merchant_id,
        type=ChannelType(type),
        phone_number_id=phone_number_id,
        access_token=access_token,
        display_phone_number=display_phone_number,
        catalog_id=catalog_id,
        account_sid=account_sid,
        content_sids=content_sids,
    )
    try:
        with session.begin_nested():
            session.add(phone)
    except IntegrityError as exc:
        raise Conflict(f"{type} account {phone_number_id} is already registered") from exc
    return phone


def connect_phone_number(
    session: Session,
    *,
    merchant_id: int,
    phone_number_id: str,
    access_token: str,
    display_phone_number: str | None,
) -> PhoneNumber:
    """Add the number to the merchant, or give the merchant's number its new token."""
    phone = find_phone_number(session, phone_number_id)
    if phone is None:
        return add_phone_number(
            session, merchant_id=merchant_id, phone_number_id=phone_number_id,
            access_token=access_token, display_phone_number=display_phone_number,
        )  # fmt: skip
    if phone.merchant_id != merchant_id:
        raise Conflict(f"number {phone_number_id} belongs to merchant {phone.merchant_id}")
    phone.access_token = access_token
    phone.display_phone_number = display_phone_number or phone.display_phone_number
    return phone


def find_phone_number(
    session: Session, phone_number_id: str, *, type: str = ChannelType.WHATSAPP_CLOUD
) -> PhoneNumber | None:
    """The channel account by its provider id (a WhatsApp Cloud number unless `type` says)."""
    stmt = select(PhoneNumber).where(
        PhoneNumber.type == type, PhoneNumber.phone_number_id == phone_number_id
    )
    return session.scalar(stmt)


def phone_numbers_of(session: Session, merchant_id: int) -> list[PhoneNumber]:
    stmt = (
        select(PhoneNumber).where(PhoneNumber.merchant_id == merchant_id).order_by(PhoneNumber.id)
    )
    return list(session.scalars(stmt))


def add_merchant_user(
    session: Session,
    *,
    merchant_id: int,
    name: str,
    wa_id: str | None = None,
    user_id: str | None = None,
    type: str = "admin",
) -> MerchantUser:
    if not (wa_id or user_id):
        raise Conflict("a merchant user needs a wa_id or a user_id to be reachable on WhatsApp")
    get_merchant(session, merchant_id)
    user = MerchantUser(
        merchant_id=merchant_id, name=name, wa_id=wa_id, user_id=user_id, type=type.lower()
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError as exc:
        raise Conflict("this merchant already has a user with that WhatsApp id") from exc
    return user


def list_merchant_users(session: Session, merchant_id: int) -> list[MerchantUser]:
    get_merchant(session, merchant_id)
    stmt = (
        select(MerchantUser)
        .where(MerchantUser.merchant_id == merchant_id)
        .order_by(MerchantUser.id)
    )
    return list(session.scalars(stmt))


def find_merchant_user(
    session: Session, *, merchant_id: int, wa_id: str | None, user_id: str | None
) -> MerchantUser | None:
    """The merchant's staff member behind a WhatsApp identity, if any (admin conversations)."""
    matches = [MerchantUser.wa_id == wa_id] if wa_id else []
    matches += [MerchantUser.user_id == user_id] if user_id else []
    if not matches:
        return None
    stmt = (
        select(MerchantUser)
        .where(MerchantUser.merchant_id == merchant_id, or_(*matches))
        .order_by(*staff_match_order(wa_id))
    )
    return session.scalars(stmt).first()


def staff_match_order(
    wa_id: str | SQLColumnExpression[str | None] | None,
) -> tuple[ColumnElement[int], SQLColumnExpression[int]]:
    """Which staff member an identity is when it matches two (one by the phone number, the
    other by the username: each is unique on its own): the phone number's, else the first
    added."""
    by_phone: ColumnElement[int] = case((MerchantUser.wa_id == wa_id, 0), else_=1)
    return by_phone, MerchantUser.id


def is_staff_identity(
    merchant_id: SQLColumnExpression[int],
    wa_id: SQLColumnExpression[str | None],
    user_id: SQLColumnExpression[str | None],
) -> ColumnElement[bool]:
    """find_merchant_user's match as a join condition on MerchantUser (a NULL id matches
    nothing, as find_merchant_user leaves a missing one out)."""
    return and_(
        MerchantUser.merchant_id == merchant_id,
        or_(MerchantUser.wa_id == wa_id, MerchantUser.user_id == user_id),
    )


def ensure_phone_number(
    session: Session,
    *,
    phone_number_id: str,
    access_token: str,
    display_phone_number: str | None,
    merchant_name: str,
    whatsapp_business_account_id: str | None = None,
) -> PhoneNumber:
    """Create the configured default merchant and number once; keep the token (and the
    business account id, when configured) current."""
    phone = find_phone_number(session, phone_number_id)
    if phone is None:
        merchant = create_merchant(
            session, name=merchant_name, whatsapp_business_account_id=whatsapp_business_account_id
        )
        return add_phone_number(
            session,
            merchant_id=merchant.id,
            phone_number_id=phone_number_id,
            access_token=access_token,
            display_phone_number=display_phone_number,
        )
    phone.access_token = access_token
    if display_phone_number:
        phone.display_phone_number = display_phone_number
    if whatsapp_business_account_id:
        merchant = get_merchant(session, phone.merchant_id)
        merchant.whatsapp_business_account_id = whatsapp_business_account_id
    return phone
