"""Who is using the console: a login cookie, and CSRF checks on every form.

Unsafe requests need both the session's CSRF token (a form field or `X-CSRF-Token`) and,
when the browser sends one, an Origin (or Referer) on this host. The cookie is HttpOnly
and SameSite=Lax; it is Secure whenever the console is served over HTTPS.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

import redis
from fastapi import Depends, Form, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import ReferencesDep, SessionDep
from persistence.db import get_sessionmaker
from services.access.auth import Principal
from services.access.tenancy import check_references
from services.console import session as console_session
from services.console.session import ConsoleSession
from services.errors import NotFound, Unauthorized
from settings import get_settings

SESSION_COOKIE = "sb_console"
LOGIN_CSRF_COOKIE = "sb_console_login"
POLL_HEADER = "x-console-poll"


class LoginRequired(Exception):
    """Raised by pages that need a signed-in operator; rendered as a redirect to the login."""


class CsrfRejected(Exception):
    """An unsafe request without this session's CSRF token or from another origin."""


class PageNotFound(Exception):
    """A page about another merchant's object: rendered as the console's 404 page."""

    def __init__(self, user: ConsoleUser, detail: str) -> None:
        super().__init__(detail)
        self.user = user
        self.detail = detail


@dataclass
class ConsoleUser:
    session_id: str
    session: ConsoleSession
    redis: redis.Redis

    @property
    def principal(self) -> Principal:
        return self.session.principal

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token

    def flash(self, text: str, kind: str = "info") -> None:
        console_session.flash(self.redis, self.session_id, self.session, text, kind)

    def pop_flashes(self) -> list[dict[str, str]]:
        return console_session.pop_flashes(self.redis, self.session_id, self.session)


def redis_of(request: Request) -> redis.Redis:
    return request.app.state.redis()


def _signed_in(request: Request, db: Session) -> ConsoleUser:
    session_id = request.cookies.get(SESSION_COOKIE)
    client = redis_of(request)
    try:
        session = console_session.load_session(db, client, session_id)
    except Unauthorized as exc:
        raise LoginRequired(exc.message) from None
    assert session_id is not None
    return ConsoleUser(session_id=session_id, session=session, redis=client)


def get_console_user(request: Request, db: SessionDep, refs: ReferencesDep) -> ConsoleUser:
    """The signed-in operator; whatever the request names by id must be their merchant's."""
    user = _signed_in(request, db)
    try:
        check_references(db, user.principal, refs)
    except NotFound as exc:
        raise PageNotFound(user, exc.message) from None
    return user


async def signed_in_gate(request: Request) -> bool:
    """api.uploads' gate for console and sandbox uploads: a signed-in operator (else the
    login redirect), known before the upload is read. The CSRF token, a form field, is
    checked after, as on every form."""

    def check() -> None:
        with get_sessionmaker()() as db:
            _signed_in(request, db)

    await run_in_threadpool(check)
    return True


def same_origin(request: Request) -> bool:
    """False only when the browser says the request comes from another site."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True  # not a browser, or one that hides it: the CSRF token still decides
    if source == "null":
        return False  # an opaque origin (sandboxed frame, data: URL)
    host = request.headers.get("host", "")
    return urlsplit(source).netloc.lower() == host.lower()


def check_form(
    request: Request,
    user: Annotated[ConsoleUser, Depends(get_console_user)],
    csrf_token: Annotated[str | None, Form()] = None,
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> ConsoleUser:
    if not same_origin(request):
        raise CsrfRejected("cross-site request refused")
    if not console_session.csrf_valid(user.session, csrf_token or x_csrf_token):
        raise CsrfRejected("missing or wrong CSRF token: reload the page and try again")
    return user


ConsoleUserDep = Annotated[ConsoleUser, Depends(get_console_user)]
# For POST routes: a signed-in operator AND a valid CSRF token from this site.
FormUserDep = Annotated[ConsoleUser, Depends(check_form)]


def safe_next(target: str | None) -> str:
    """Only paths on this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console/inbox"


def login_redirect(request: Request) -> Response:
    if request.headers.get(POLL_HEADER):
        return Response("sign in again", status_code=401, media_type="text/plain")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/login?next={quote(target, safe='/')}", status_code=303)


def set_session_cookie(response: Response, request: Request, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(get_settings().console_session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


def set_login_csrf_cookie(response: Response, request: Request, token: str) -> None:
    """Double-submit token for the login form, which has no session yet (login CSRF)."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/console/login",
    )
