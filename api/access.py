"""Every request, seen once from outside the app: its HTTP metrics under its route
template (observability.metrics.observe_http) and its access line.

The access line (`http.request`: method, path, route, status, milliseconds, client) is
written for every refusal and error (status 400 and up, or an exception) and for a
sample of the rest (ACCESS_LOG_SAMPLE_RATE, each line saying the rate), so a busy webhook
does not render and write a JSON line for every 200 that nobody reads; the counts and
latencies of all of them are in the metrics. The query string is left out: it can carry
tokens (the webhook handshake's hub.verify_token, a media link's signature).

Pure ASGI, no BaseHTTPMiddleware (no task, no memory channels per request), and the route
template is read from the route the router has put in the scope (or the mount it entered)
after the app ran, not found by matching the path a second time.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.logs import get_logger
from observability.metrics import observe_http
from settings import get_settings

log = get_logger(__name__)
UNMATCHED = "none"  # the handler label of a request no route took (404s)
_UNCOUNTED = frozenset({"/metrics"})  # Prometheus' own scrapes


@dataclass
class AccessObserver:
    """ASGI middleware: metrics for every HTTP request, and its access line when due."""

    app: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._observe(scope, receive, send)
        else:  # lifespan, websockets
            await self.app(scope, receive, send)

    async def _observe(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        root_path = scope.get("root_path", "")
        response = [500, 0]  # status and Content-Length; 500 if the app raised first

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                response[0] = message["status"]
                response[1] = _content_length(message.get("headers", ()))
            await send(message)

        failed = True
        try:
            await self.app(scope, receive, observed)
            failed = False
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope, root_path)
            status = response[0]
            if route not in _UNCOUNTED:
                request_bytes = _content_length(scope.get("headers", ()))
                observe_http(scope["method"], route, status, request_bytes, response[1], seconds)
            if failed or status >= 400:
                _log_access(scope, route, status, seconds, sampled=None)
            else:
                rate = get_settings().access_log_sample_rate
                if rate >= 1 or (rate > 0 and random.random() < rate):
                    _log_access(scope, route, status, seconds, sampled=rate)


def route_template(scope: Scope, root_path: str = "") -> str:
    """The template of the route that took the request ("/api/v1/documents/{document_id}"),
    a mount's path for what a mounted app served, UNMATCHED when nothing took it."""
    path = getattr(scope.get("route"), "path", None)  # FastAPI's routes put themselves here
    if isinstance(path, str):
        return path
    inner_root = scope.get("root_path", "")
    if inner_root != root_path and inner_root.startswith(root_path):  # a Mount (static files)
        return str(inner_root[len(root_path) :])
    endpoint = scope.get("endpoint")
    app = scope.get("app")
    if endpoint is not None and app is not None:  # a plain Starlette route (/openapi.json)
        for candidate in getattr(app, "routes", ()):
            if isinstance(candidate, Route) and candidate.endpoint is endpoint:
                return candidate.path
    return UNMATCHED


def _content_length(headers: object) -> int:
    for name, value in headers:  # type: ignore[attr-defined]
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def _log_access(
    scope: Scope, route: str, status: int, seconds: float, *, sampled: float | None
) -> None:
    client = scope.get("client")
    fields = {
        "method": scope["method"],
        "path": scope["path"],
        "route": route,
        "status": status,
        "ms": round(1000 * seconds, 1),
        "client": client[0] if client else None,
    }
    if sampled is not None and sampled < 1:
        fields["sampled"] = sampled  # one line for about 1/sampled such requests
    if status >= 500:
        log.error("http.request", **fields)
    else:
        log.info("http.request", **fields)
