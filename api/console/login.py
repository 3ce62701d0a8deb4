"""Signing in with an operator token (or ADMIN_API_TOKEN), and out."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api import rate_limit
from api.console import auth
from api.console.auth import FormUserDep
from api.console.templating import render
from api.deps import SessionDep
from services.access.rate_limit import RateLimited
from services.console import session as console_session
from services.errors import Unauthorized

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("")
def console_home() -> Response:
    return RedirectResponse("/console/inbox", status_code=303)


def _login_page(request: Request, next_path: str, error: str | None, status_code: int) -> Response:
    token = auth.new_login_csrf()
    response = render(
        request,
        "login.html",
        {"user": None, "login_csrf": token, "next": next_path, "error": error},
        status_code=status_code,
    )
    auth.set_login_csrf_cookie(response, request, token)
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, auth.safe_next(next), None, 200)


@router.post("/login")
def login(
    request: Request,
    db: SessionDep,
    token: Annotated[str, Form(max_length=512)] = "",
    login_csrf: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    cookie = request.cookies.get(auth.LOGIN_CSRF_COOKIE) or ""
    fresh = cookie and hmac.compare_digest(cookie.encode(), login_csrf.encode())
    if not fresh or not auth.same_origin(request):
        return _login_page(request, auth.safe_next(next), "The form expired: try again.", 403)
    guard = rate_limit.limiter(request).guarding(rate_limit.client_ip(request), token.strip())
    try:
        with guard:  # wrong tokens count against this address, as at the API
            session_id, _ = console_session.open_session(db, auth.redis_of(request), token)
    except RateLimited as exc:
        wait = f"Too many failed sign-ins from your address: try again in {exc.retry_after} s."
        page = _login_page(request, auth.safe_next(next), wait, 429)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except Unauthorized:
        return _login_page(request, auth.safe_next(next), "That token is not valid.", 401)
    response = RedirectResponse(auth.safe_next(next), status_code=303)
    auth.set_session_cookie(response, request, session_id)
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/console/login")
    return response


@router.post("/logout")
def logout(request: Request, user: FormUserDep) -> Response:
    console_session.close_session(user.redis, user.session_id)
    response = RedirectResponse("/console/login", status_code=303)
    auth.clear_session_cookie(response)
    return response
