"""The FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import admin, conversations, handoff, health, media, operators, webhook
from api.errors import install_error_handlers

log = logging.getLogger(__name__)


def _worker_count() -> int:
    from tasks import app as celery_app

    try:
        return len(celery_app.control.ping(timeout=0.5) or [])
    except Exception:  # a broker outage must not break /health
        return 0


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from tasks import runtime

    app.state.scheduler = webhook.celery_scheduler()
    app.state.buffer = runtime.buffer
    app.state.redis = lambda: runtime.buffer().client
    app.state.worker_count = _worker_count
    yield


def create_app() -> FastAPI:
    app = FastAPI(
        title="Switchboard",
        summary="AI customer service on WhatsApp Business, with humans one call away.",
        lifespan=_lifespan,
    )
    install_error_handlers(app)
    for module in (webhook, handoff, conversations, admin, operators, media, health):
        app.include_router(module.router)
    return app
