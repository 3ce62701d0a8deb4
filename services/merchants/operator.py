"""Operator accounts. A token is shown once, at creation; only its hash is stored.

Operators belong to one merchant and see only its data; `is_admin` makes them that
merchant's admin. An admin without a merchant is a platform admin, with rights over all.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from persistence.models import Merchant, Operator
from services.access.auth import Principal, hash_token, new_token
from services.errors import Forbidden, InvalidInput, NotFound
from services.merchants.merchant import get_merchant


def create_operator(
    session: Session, *, name: str, is_admin: bool = False, merchant_id: int | None = None
) -> tuple[Operator, str]:
    if merchant_id is not None:
        get_merchant(session, merchant_id)
    token = new_token()
    operator = Operator(
        name=name, token_hash=hash_token(token), is_admin=is_admin, merchant_id=merchant_id
    )
    session.add(operator)
    session.flush()
    return operator, token


def operator_merchant(
    session: Session, creator: Principal, *, merchant_id: int | None, is_admin: bool
) -> int | None:
    """The merchant of an operator `creator` (an admin) creates. Merchant admins create
    operators of their own merchant only; platform admins name any merchant, or none for
    another platform admin; a non-admin named without a merchant joins the default one."""
    if creator.merchant_id is not None:
        if merchant_id not in (None, creator.merchant_id):
            raise Forbidden("a merchant's admin creates operators of their own merchant only")
        return creator.merchant_id
    if merchant_id is not None or is_admin:
        return merchant_id
    default = session.scalar(select(func.min(Merchant.id)))
    if default is None:
        raise InvalidInput("an operator who is not an admin needs a merchant: create one first")
    return default


def list_operators(session: Session, *, merchant_id: int | None = None) -> list[Operator]:
    stmt = select(Operator).order_by(Operator.id)
    if merchant_id is not None:
        stmt = stmt.where(Operator.merchant_id == merchant_id)
    return list(session.scalars(stmt))


def revoke_operator(session: Session, operator_id: int) -> Operator:
    operator = session.get(Operator, operator_id)
    if operator is None:
        raise NotFound(f"operator {operator_id} does not exist")
    if operator.revoked_at is None:
        operator.revoked_at = datetime.now(UTC)
    return operator
