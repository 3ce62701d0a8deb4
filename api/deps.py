"""Request dependencies: a session that commits at the boundary, and the caller's identity."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from api import rate_limit
from persistence.db import get_sessionmaker
from services.access.auth import Principal, authenticate_request
from services.access.rate_limit import RateLimited
from services.errors import InvalidInput


def get_session() -> Iterator[Session]:
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except DataError as exc:  # the request's values, refused by PostgreSQL: the client's error
        session.rollback()
        raise InvalidInput(_unstorable(exc)) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _unstorable(exc: DataError) -> str:
    reasons = {
        "22003": "a number is out of range (ids go up to 2147483647)",
        "22001": "a text is too long",
    }
    reason = reasons.get(getattr(exc.orig, "sqlstate", None) or "")
    return f"invalid input: {reason or 'a value cannot be stored (text may not contain NUL)'}"


# "function" scope: commit before the response is sent, so a 2xx means the change is durable.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def get_principal(request: Request, session: SessionDep) -> Principal:
    """The caller, within the API's rate limits: every /api/v1 route depends on this."""
    try:
        return authenticate_request(
            session,
            rate_limit.limiter(request),
            _bearer(request),
            client_ip=rate_limit.client_ip(request),
        )
    except RateLimited as exc:
        raise rate_limit.too_many_requests(exc) from None


def get_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    principal.require_admin()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
AdminDep = Annotated[Principal, Depends(get_admin)]
