"""The operator console: server-rendered pages under /console (Jinja2, a small script of our
own for live updates; no build step, nothing loaded from elsewhere).

Each page is one module here with its own `router` and templates; to add a page, write
the module, list it in PAGES and add its NavItem in `templating.NAV`. Pages read through
services and change things through the same services as the HTTP API.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from api.console import (
    conversation,
    desk,
    documents,
    home,
    inbox,
    login,
    media,
    message_templates,
    notifications,
    onboarding,
    reports,
    settings,
    stats,
    store,
)
from api.console.auth import CsrfRejected, LoginRequired, PageNotFound, login_redirect
from api.console.templating import SECURITY_HEADERS, STATIC, render

PAGES = (
    home, login, inbox, conversation, desk, notifications, documents, media, store, stats,
    reports, message_templates, onboarding, settings,
)


def install(app: FastAPI) -> None:
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    for page in PAGES:
        app.include_router(page.router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return login_redirect(request)

    @app.exception_handler(PageNotFound)
    async def page_not_found(request: Request, exc: PageNotFound) -> Response:
        context = {"user": exc.user, "detail": exc.detail}
        return render(request, "not_found.html", context, status_code=404)

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        body = f"<!doctype html><title>Refused</title><p>Refused: {escape(str(exc))}.</p>"
        return HTMLResponse(body, status_code=403, headers=SECURITY_HEADERS)
