"""Bearer credentials: the bootstrap admin token, or an operator's token (stored hashed)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import Operator
from services.errors import Forbidden, Unauthorized
from settings import get_settings


@dataclass(frozen=True)
class Principal:
    operator_id: int | None  # None: the ADMIN_API_TOKEN
    name: str
    is_admin: bool

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("this needs an admin token (ADMIN_API_TOKEN or an admin operator)")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "sbo_" + secrets.token_urlsafe(32)


def authenticate(session: Session, token: str | None) -> Principal:
    if not token:
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    admin_token = get_settings().admin_api_token
    if admin_token and hmac.compare_digest(token.encode(), admin_token.get_secret_value().encode()):
        return Principal(operator_id=None, name="admin-token", is_admin=True)
    # The hash is the lookup key; comparing hashes, not tokens, leaks nothing useful by timing.
    operator = session.scalar(
        select(Operator).where(
            Operator.token_hash == hash_token(token), Operator.revoked_at.is_(None)
        )
    )
    if operator is None:
        raise Unauthorized("invalid or revoked token")
    return Principal(operator_id=operator.id, name=operator.name, is_admin=operator.is_admin)
