"""The FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import (
    admin,
    conversations,
    documents,
    handoff,
    health,
    media,
    metrics,
    notifications,
    operators,
    webhook,
)
from api.console import install as install_console
from api.errors import install_error_handlers
from api.sandbox import install as install_sandbox

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
    metrics.instrument(app)
    routers = (webhook, handoff, conversations, admin, operators, media, documents, notifications)
    for module in (*routers, health, metrics):
        app.include_router(module.router)
    install_console(app)  # /console: operator pages
    install_sandbox(app)  # /sandbox: only when enabled, never next to a real Graph API
    return app
