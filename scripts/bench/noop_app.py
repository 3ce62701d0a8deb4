"""Switchboard's app with POST /webhook answering at once, as the trivial app does (read
the body, return a small JSON object): what the framework, the middleware and the
routing cost a webhook before its handler does anything (scripts/profile_api.py)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from api.app import create_served_app


async def _noop(request: Request) -> dict[str, bool]:
    await request.body()
    return {"ok": True}


def create_app() -> FastAPI:
    app = create_served_app()
    webhook = next(
        index for index, route in enumerate(app.router.routes)
        if any(getattr(r, "path", None) == "/webhook" for r in _flattened(route))
    )  # fmt: skip
    # just before the webhook's own router: matched after the same routes, then first
    app.router.routes.insert(webhook, APIRoute("/webhook", _noop, methods=["POST"]))
    return app


def _flattened(route: BaseRoute) -> list[BaseRoute]:
    contexts = getattr(route, "effective_route_contexts", None)  # an included router
    return list(contexts()) if callable(contexts) else [route]
