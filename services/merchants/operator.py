"""Operator accounts. A token is shown once, at creation; only its hash is stored."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import Operator
from services.access.auth import hash_token, new_token
from services.errors import NotFound


def create_operator(session: Session, *, name: str, is_admin: bool = False) -> tuple[Operator, str]:
    token = new_token()
    operator = Operator(name=name, token_hash=hash_token(token), is_admin=is_admin)
    session.add(operator)
    session.flush()
    return operator, token


def list_operators(session: Session) -> list[Operator]:
    return list(session.scalars(select(Operator).order_by(Operator.id)))


def revoke_operator(session: Session, operator_id: int) -> Operator:
    operator = session.get(Operator, operator_id)
    if operator is None:
        raise NotFound(f"operator {operator_id} does not exist")
    if operator.revoked_at is None:
        operator.revoked_at = datetime.now(UTC)
    return operator
