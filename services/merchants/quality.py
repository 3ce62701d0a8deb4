"""Meta's account and quality webhooks: kept as events, the number's standing updated, and
the console warned while a number is flagged or rated YELLOW or RED."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from channels.webhook import AccountEvent as AccountWebhook
from persistence.db import session_scope
from persistence.models import AccountEvent, PhoneNumber
from services.merchants.merchant import find_by_business_account

# a number is in bad standing while flagged or rated YELLOW/RED, until Meta says otherwise
FLAG_EVENTS = frozenset({"FLAGGED", "UNFLAGGED"})
WARNING_RATINGS = frozenset({"YELLOW", "RED"})
NUMBER_FIELDS = frozenset({"phone_number_quality_update", "account_update"})


def record_account_event(session: Session, webhook: AccountWebhook) -> None:
    merchant = find_by_business_account(session, webhook.waba_id) if webhook.waba_id else None
    merchant_id = merchant.id if merchant else None
    session.add(
        AccountEvent(
            merchant_id=merchant_id, field=webhook.field, event=webhook.event,
            payload={**asdict(webhook)},
        )
    )  # fmt: skip
    if webhook.field in NUMBER_FIELDS and webhook.display_phone_number:
        phone = _number(session, webhook.display_phone_number, merchant_id)
        if phone is not None:
            _apply_standing(phone, webhook)
    session.flush()


def _apply_standing(phone: PhoneNumber, webhook: AccountWebhook) -> None:
    """The quality update's event (FLAGGED, UPGRADE...) and the rating when one is stated;
    an account_update changes only what it states (a flag or a rating)."""
    if webhook.field == "phone_number_quality_update" or webhook.event in FLAG_EVENTS:
        phone.quality_event = webhook.event
    if webhook.quality_rating is not None:
        phone.quality_rating = webhook.quality_rating
    phone.messaging_limit = webhook.current_limit or phone.messaging_limit


def _number(session: Session, display: str, merchant_id: int | None) -> PhoneNumber | None:
    digits = "".join(ch for ch in display if ch.isdigit())
    stmt = select(PhoneNumber)
    if merchant_id is not None:
        stmt = stmt.where(PhoneNumber.merchant_id == merchant_id)
    for phone in session.scalars(stmt):
        if "".join(ch for ch in phone.display_phone_number or "" if ch.isdigit()) == digits:
            return phone
    return None


def quality_warnings(merchant_id: int | None) -> list[str]:
    """One line per number of the merchant (every merchant: None) in bad standing."""
    stmt = select(PhoneNumber).where(
        or_(PhoneNumber.quality_event == "FLAGGED", PhoneNumber.quality_rating.in_(WARNING_RATINGS))
    )
    if merchant_id is not None:
        stmt = stmt.where(PhoneNumber.merchant_id == merchant_id)
    with session_scope() as session:
        return [_warning(p) for p in session.scalars(stmt.order_by(PhoneNumber.id))]


def _warning(phone: PhoneNumber) -> str:
    number = phone.display_phone_number or phone.phone_number_id
    flagged = ["FLAGGED"] if phone.quality_event == "FLAGGED" else []
    rated = [f"quality {phone.quality_rating}"] if phone.quality_rating in WARNING_RATINGS else []
    return (
        f"WhatsApp warns about {number} ({', '.join(flagged + rated)}): customers have blocked "
        "or reported its messages; sending may be limited."
    )
