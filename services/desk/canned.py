"""Canned responses: a merchant's saved replies, found by shortcut, with `{{variables}}`
filled for one conversation. A variable we cannot fill stays visible, and is reported."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from persistence.models import CannedResponse, Merchant
from services.access.auth import Principal
from services.conversations.conversation import conversation_parties
from services.errors import Conflict, NotFound

VARIABLE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
VARIABLES = ("customer_name", "operator_name", "merchant_name")


@dataclass(frozen=True)
class Rendered:
    text: str
    unknown: list[str]  # variables left as they were written: unknown, or without a value


def get(session: Session, canned_id: int) -> CannedResponse:
    found = session.get(CannedResponse, canned_id)
    if found is None:
        raise NotFound(f"canned response {canned_id} does not exist")
    return found


def listed(
    session: Session, *, merchant_id: int | None = None, prefix: str | None = None
) -> list[CannedResponse]:
    stmt = select(CannedResponse)
    if merchant_id is not None:
        stmt = stmt.where(CannedResponse.merchant_id == merchant_id)
    if prefix:
        escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(CannedResponse.shortcut.like(f"{escaped}%"))
    return list(session.scalars(stmt.order_by(CannedResponse.shortcut).limit(200)))


def create(session: Session, *, merchant_id: int, shortcut: str, text: str) -> CannedResponse:
    if session.get(Merchant, merchant_id) is None:
        raise NotFound(f"merchant {merchant_id} does not exist")
    canned = CannedResponse(merchant_id=merchant_id, shortcut=shortcut.lower(), text=text)
    return _stored(session, canned)


def update(
    session: Session, canned_id: int, *, shortcut: str | None, text: str | None
) -> CannedResponse:
    canned = get(session, canned_id)
    if shortcut is not None:
        canned.shortcut = shortcut.lower()
    if text is not None:
        canned.text = text
    return _stored(session, canned)


def delete(session: Session, canned_id: int) -> None:
    session.delete(get(session, canned_id))
    session.flush()


def render(
    session: Session, canned_id: int, *, conversation_id: int, principal: Principal
) -> Rendered:
    """The text for this conversation, its variables filled."""
    canned = get(session, canned_id)
    _, customer, phone = conversation_parties(session, conversation_id)
    if canned.merchant_id != phone.merchant_id:
        raise NotFound(f"canned response {canned_id} does not exist for this conversation")
    merchant = session.get(Merchant, phone.merchant_id)
    values = {
        "customer_name": customer.profile_name or customer.username,
        "operator_name": principal.name,
        "merchant_name": merchant.name if merchant else None,
    }
    return fill(canned.text, values)


def fill(text: str, values: dict[str, str | None]) -> Rendered:
    unknown: list[str] = []

    def value(match: re.Match[str]) -> str:
        filled = values.get(match.group(1))
        if filled:
            return filled
        unknown.append(match.group(1))
        return match.group(0)

    return Rendered(text=VARIABLE.sub(value, text), unknown=unknown)


def _stored(session: Session, canned: CannedResponse) -> CannedResponse:
    try:
        with session.begin_nested():
            session.add(canned)
            session.flush()
    except IntegrityError:
        raise Conflict(f"the shortcut /{canned.shortcut} is taken for this merchant") from None
    return canned
