"""Which address a request comes from: the peer, unless the peer is a proxy named in
TRUSTED_PROXIES; then the client that proxy reports in X-Forwarded-For (read from the
right, skipping trusted proxies), and the scheme in X-Forwarded-Proto.

The auth-failure lockout keys on this address, so believing X-Forwarded-For from anyone
else would let a client pick a new address for every guess. uvicorn believes it from
loopback by default; run_server.py turns that off (proxy_headers=False) and leaves the
decision to this middleware, which applies uvicorn's own algorithm to our setting.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from settings import get_settings


class TrustedProxies:
    """ASGI middleware: rewrites the request's client only behind a trusted proxy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._resolvers: dict[str, ProxyHeadersMiddleware] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        trusted = get_settings().trusted_proxies
        if not trusted.strip():
            await self.app(scope, receive, send)
            return
        resolver = self._resolvers.get(trusted)
        if resolver is None:  # one per value of the setting (tests change it)
            hosts = get_settings().trusted_proxy_list
            resolver = ProxyHeadersMiddleware(self.app, trusted_hosts=hosts)  # type: ignore[arg-type]
            self._resolvers[trusted] = resolver
        await resolver(scope, receive, send)  # type: ignore[arg-type]
