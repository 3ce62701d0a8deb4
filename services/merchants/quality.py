"""Meta's account and quality webhooks: kept as events, the number's standing updated, and
the console warned while a number is flagged."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.webhook import AccountEvent as AccountWebhook
from persistence.db import session_scope
from persistence.models import AccountEvent, PhoneNumber
from services.merchants.merchant import find_by_business_account

# events that leave a number in bad standing until Meta says otherwise
WARNING_EVENTS = frozenset({"FLAGGED", "YELLOW", "RED"})


def record_account_event(session: Session, webhook: AccountWebhook) -> None:
    merchant = find_by_business_account(session, webhook.waba_id) if webhook.waba_id else None
    merchant_id = merchant.id if merchant else None
    session.add(
        AccountEvent(
            merchant_id=merchant_id, field=webhook.field, event=webhook.event,
            payload={**asdict(webhook)},
        )
    )  # fmt: skip
    if webhook.field == "phone_number_quality_update" and webhook.display_phone_number:
        phone = _number(session, webhook.display_phone_number, merchant_id)
        if phone is not None:
            phone.quality_event = webhook.event
            phone.messaging_limit = webhook.current_limit or phone.messaging_limit
    session.flush()


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
    stmt = select(PhoneNumber).where(PhoneNumber.quality_event.in_(WARNING_EVENTS))
    if merchant_id is not None:
        stmt = stmt.where(PhoneNumber.merchant_id == merchant_id)
    with session_scope() as session:
        return [
            f"WhatsApp rates the quality of {p.display_phone_number or p.phone_number_id} as "
            f"{p.quality_event}: customers have blocked or reported its messages; sending may "
            "be limited."
            for p in session.scalars(stmt.order_by(PhoneNumber.id))
        ]
