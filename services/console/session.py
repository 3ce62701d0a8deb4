"""Console logins: a server-side session per browser, opened with an operator token.

The cookie holds only a random session id; Redis holds the session under the id's hash
(a Redis dump reveals no live cookie) with the operator's token hash, so every request
re-checks the credential: revoking the operator (or changing ADMIN_API_TOKEN) ends their
console sessions at once, and logout deletes the session for good. Losing Redis only
logs people out; nothing of record lives here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import Operator
from services.access.auth import Principal, authenticate, hash_token
from services.errors import Unauthorized
from settings import get_settings

_PREFIX = "console:session:"
ADMIN_TOKEN_SUBJECT = "admin-token"


@dataclass
class ConsoleSession:
    operator_id: int | None  # None: signed in with ADMIN_API_TOKEN
    name: str
    is_admin: bool
    token_hash: str
    csrf_token: str
    flashes: list[dict[str, str]] = field(default_factory=list)
    merchant_id: int | None = None  # whose data the operator sees (None: every merchant)

    @property
    def principal(self) -> Principal:
        return Principal(
            operator_id=self.operator_id,
            name=self.name,
            is_admin=self.is_admin,
            merchant_id=self.merchant_id,
        )


def _key(session_id: str) -> str:
    return _PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


def _ttl() -> int:
    return max(60, int(get_settings().console_session_hours * 3600))


def open_session(session: Session, client: redis.Redis, token: str) -> tuple[str, ConsoleSession]:
    """Check the token like the API does; return a new session id and its session."""
    principal = authenticate(session, token.strip() or None)
    console = ConsoleSession(
        operator_id=principal.operator_id,
        name=principal.name,
        is_admin=principal.is_admin,
        merchant_id=principal.merchant_id,
        token_hash=hash_token(token.strip()),
        csrf_token=secrets.token_urlsafe(32),
    )
    session_id = secrets.token_urlsafe(32)
    client.set(_key(session_id), json.dumps(asdict(console)), ex=_ttl())
    return session_id, console


def load_session(session: Session, client: redis.Redis, session_id: str | None) -> ConsoleSession:
    """The live session behind a cookie; Unauthorized when gone, expired or revoked."""
    if not session_id:
        raise Unauthorized("not signed in")
    raw = client.get(_key(session_id))
    if raw is None:
        raise Unauthorized("the session has ended: sign in again")
    console = ConsoleSession(**json.loads(raw))
    if not _credential_valid(session, console):
        client.delete(_key(session_id))
        raise Unauthorized("this token was revoked or changed: sign in again")
    return console


def save_session(client: redis.Redis, session_id: str, console: ConsoleSession) -> None:
    client.set(_key(session_id), json.dumps(asdict(console)), ex=_ttl(), xx=True)


def close_session(client: redis.Redis, session_id: str | None) -> None:
    if session_id:
        client.delete(_key(session_id))


def flash(
    client: redis.Redis, session_id: str, console: ConsoleSession, text: str, kind: str
) -> None:
    """A message shown once on the next page (the outcome of a form)."""
    console.flashes.append({"text": text[:2000], "kind": kind})
    save_session(client, session_id, console)


def pop_flashes(client: redis.Redis, session_id: str, console: ConsoleSession) -> list[Any]:
    shown, console.flashes = console.flashes, []
    if shown:
        save_session(client, session_id, console)
    return shown


def csrf_valid(console: ConsoleSession, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(
        console.csrf_token.encode(), (submitted or "").encode()
    )


def _credential_valid(session: Session, console: ConsoleSession) -> bool:
    if console.operator_id is None:
        admin = get_settings().admin_api_token
        return admin is not None and hmac.compare_digest(
            hash_token(admin.get_secret_value()), console.token_hash
        )
    found = session.execute(
        select(Operator.merchant_id, Operator.is_admin).where(
            Operator.id == console.operator_id,
            Operator.token_hash == console.token_hash,
            Operator.revoked_at.is_(None),
        )
    ).first()
    if found is None:
        return False
    # Rights as they are now, not as at sign-in (also for sessions older than tenancy).
    console.merchant_id, console.is_admin = found.merchant_id, found.is_admin
    return True
