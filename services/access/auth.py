"""Bearer credentials: the bootstrap admin token, or an operator's token (stored hashed).

Neither check leaks a token by timing. ADMIN_API_TOKEN is compared with
`hmac.compare_digest`, over SHA-256 digests so that not even its length shows. Operator
tokens are never stored: the database holds their SHA-256 and finds a presented token by
the hash of what was presented. The timing of that index lookup could at most tell how far
the *hash* of a guess matches a stored hash; steering guesses towards a stored hash would
mean inverting SHA-256, and the tokens carry 256 random bits, so they can only be guessed
whole (and wrong guesses per client address, and per wrong token, are limited, see
services.access.rate_limit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import Operator
from services.access.rate_limit import RateLimiter
from services.errors import Forbidden, Unauthorized
from settings import get_settings


@dataclass(frozen=True)
class Principal:
    operator_id: int | None  # None: the ADMIN_API_TOKEN
    name: str
    is_admin: bool
    # The merchant whose data the caller sees; None: every merchant (ADMIN_API_TOKEN,
    # platform admins, and operators from before merchants existed).
    merchant_id: int | None = None

    @property
    def is_platform_admin(self) -> bool:
        return self.is_admin and self.merchant_id is None

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("this needs an admin token (ADMIN_API_TOKEN or an admin operator)")

    def require_platform_admin(self) -> None:
        if not self.is_platform_admin:
            raise Forbidden("this needs ADMIN_API_TOKEN or a platform admin (no merchant)")

    def scope(self, merchant_id: int | None = None) -> int | None:
        """The merchant a query is limited to: the caller's own, or for an all-merchant
        caller the one asked for (None: all). Foreign ids never get this far
        (services.access.tenancy refuses them first)."""
        return self.merchant_id if self.merchant_id is not None else merchant_id

    @property
    def rate_key(self) -> str:
        """Whose request budget this is: never the token itself."""
        return "admin-token" if self.operator_id is None else f"operator:{self.operator_id}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "sbo_" + secrets.token_urlsafe(32)


def _same_token(token: str, expected: SecretStr | None) -> bool:
    return expected is not None and hmac.compare_digest(
        hash_token(token), hash_token(expected.get_secret_value())
    )


def authenticate(session: Session, token: str | None) -> Principal:
    if not token:
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    if _same_token(token, get_settings().admin_api_token):
        return Principal(operator_id=None, name="admin-token", is_admin=True)
    operator = session.scalar(
        select(Operator).where(
            Operator.token_hash == hash_token(token), Operator.revoked_at.is_(None)
        )
    )
    if operator is None:
        raise Unauthorized("invalid or revoked token")
    return principal_of(operator)


def principal_of(operator: Operator) -> Principal:
    return Principal(
        operator_id=operator.id,
        name=operator.name,
        is_admin=operator.is_admin,
        merchant_id=operator.merchant_id,
    )


def authenticate_request(
    session: Session, limiter: RateLimiter, token: str | None, *, client_ip: str
) -> Principal:
    """authenticate() within the API's budgets: an address that sent too many wrong tokens
    is refused first, a wrong token counts against its address, and every request spends
    one of its credential's requests for the minute (RateLimited, 429)."""
    with limiter.guarding(client_ip, token):
        principal = authenticate(session, token)
    limiter.spend(principal.rate_key)
    return principal


def authenticate_monitoring(
    session: Session, limiter: RateLimiter, token: str | None, *, client_ip: str
) -> Principal | None:
    """/metrics and /stats: METRICS_TOKEN (a scraper's, spending no request budget; None:
    the whole deployment) or any operator token, within the same budgets as the API."""
    with limiter.guarding(client_ip, token):
        if token and _same_token(token, get_settings().metrics_token):
            return None
        try:
            principal = authenticate(session, token)
        except Unauthorized:
            raise Unauthorized(
                "/metrics and /stats need Authorization: Bearer <METRICS_TOKEN or an "
                "operator token>"
            ) from None
    limiter.spend(principal.rate_key)
    return principal
