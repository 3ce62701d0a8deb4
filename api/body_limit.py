"""Request bodies are counted as they arrive, before anything parses or authenticates them.

Every request may send REQUEST_MAX_BODY_BYTES. The count covers what the client actually
streams (`Transfer-Encoding: chunked` declares no length), and a declared Content-Length
over the limit is refused at the first read, before a byte is taken. Routes that take
large bodies (media uploads) raise their own request's limit with `allow()`, and only once
they know the caller (see api.uploads), so a stranger's upload is refused unread.

FastAPI reads a route's body before it solves the route's dependencies (authentication
among them), so this cannot be a dependency: it wraps the whole application.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import json_error
from observability.logs import get_logger
from settings import get_settings

log = get_logger(__name__)
_SCOPE_KEY = "switchboard.body_budget"


class BodyTooLarge(HTTPException):
    """Raised from `receive` when the body passes its limit. An HTTPException, so that
    FastAPI's body reading lets it through as it is (anything else becomes a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body too large: this route accepts at most {limit} bytes")
        self.limit = limit


@dataclass
class _Budget:
    limit: int
    declared: int | None
    received: int = 0


def allow(scope: Scope, limit: int) -> None:
    """Let this request's body reach `limit` bytes (for a caller already checked)."""
    budget = scope.get(_SCOPE_KEY)
    if isinstance(budget, _Budget):
        budget.limit = limit


class BodyLimit:
    """ASGI middleware: 413, with the limit in the reason, once a body passes its limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        budget = _Budget(get_settings().request_max_body_bytes, _declared_length(scope))
        scope[_SCOPE_KEY] = budget
        started = False

        async def counted() -> Message:
            if budget.declared is not None and budget.declared > budget.limit:
                raise _refused(scope, budget)
            message = await receive()
            if message["type"] == "http.request":
                budget.received += len(message.get("body", b""))
                if budget.received > budget.limit:
                    raise _refused(scope, budget)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:  # raised where no handler rendered it (outside routes)
            if started:
                raise
            await json_error(413, str(exc.detail))(scope, receive, send)


def _refused(scope: Scope, budget: _Budget) -> BodyTooLarge:
    log.warning(
        "http.body_too_large", path=scope.get("path"), limit=budget.limit,
        declared=budget.declared, received=budget.received,
    )  # fmt: skip
    return BodyTooLarge(budget.limit)


def _declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    return int(value) if value is not None and value.strip().isdigit() else None
