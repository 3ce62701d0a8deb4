"""One-time codes that prove an order is the customer's when they write from another number:
6 digits mailed to the order's email, stored hashed, valid ORDER_CODE_MINUTES, at most
ORDER_CODE_ATTEMPTS wrong tries; per conversation and order."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import OrderCode
from settings import get_settings


def _hash(conversation_id: int, order_id: int, code: str) -> str:
    return hashlib.sha256(f"{conversation_id}:{order_id}:{code}".encode()).hexdigest()


def _row(session: Session, conversation_id: int, order_id: int) -> OrderCode | None:
    return session.scalar(
        select(OrderCode)
        .where(OrderCode.conversation_id == conversation_id,
               OrderCode.shopify_order_id == order_id)  # fmt: skip
        .with_for_update()
    )


def is_verified(session: Session, conversation_id: int, order_id: int) -> bool:
    row = session.scalar(
        select(OrderCode.id).where(
            OrderCode.conversation_id == conversation_id,
            OrderCode.shopify_order_id == order_id,
            OrderCode.verified_at.is_not(None),
        )
    )
    return row is not None


def issue(session: Session, *, conversation_id: int, order_id: int) -> str | None:
    """A new code to mail, or None while the last one is still valid (it is not re-sent:
    a new code would also reset the tries)."""
    now = datetime.now(UTC)
    row = _row(session, conversation_id, order_id)
    if row is not None and (row.verified_at is not None or row.expires_at > now):
        return None
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = row or OrderCode(conversation_id=conversation_id, shopify_order_id=order_id)
    row.code_hash = _hash(conversation_id, order_id, code)
    row.expires_at = now + timedelta(minutes=get_settings().order_code_minutes)
    row.attempts = 0
    session.add(row)
    session.flush()
    return code


def verify(session: Session, *, conversation_id: int, order_id: int, code: str) -> bool:
    """Whether `code` is this order's live code; a wrong one uses up a try."""
    row = _row(session, conversation_id, order_id)
    if row is None:
        return False
    if row.verified_at is not None:
        return True
    if row.expires_at <= datetime.now(UTC) or row.attempts >= get_settings().order_code_attempts:
        return False
    wanted = _hash(conversation_id, order_id, "".join(ch for ch in code if ch.isdigit()))
    if hmac.compare_digest(row.code_hash, wanted):
        row.verified_at = datetime.now(UTC)
        return True
    row.attempts += 1
    return False


def forget(session: Session, *, conversation_id: int, order_id: int) -> None:
    row = _row(session, conversation_id, order_id)
    if row is not None and row.verified_at is None:
        session.delete(row)
        session.flush()
