"""The FastAPI application."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import (
    admin,
    business_hours,
    canned,
    carts,
    channels,
    conversations,
    customers,
    desk,
    docs,
    documents,
    handoff,
    health,
    instagram,
    media,
    metrics,
    notifications,
    onboarding,
    operators,
    reports,
    shopify,
    templates,
    twilio_webhook,
    webhook,
)
from api.access import AccessObserver
from api.body_limit import BodyLimit
from api.console import install as install_console
from api.errors import install_error_handlers
from api.proxies import TrustedProxies
from api.sandbox import install as install_sandbox
from observability.logs import configure as configure_logs
from persistence import jobs
from persistence.buffer import process_buffer
from services.ingest.flows import default_scheduler
from settings import get_settings

log = logging.getLogger(__name__)


def _worker_count() -> int:
    try:
        return len(jobs.celery_client().control.ping(timeout=0.5) or [])
    except Exception:  # a broker outage must not break /health
        return 0


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.scheduler = default_scheduler()
    app.state.buffer = process_buffer
    app.state.redis = lambda: process_buffer().client
    app.state.worker_count = _worker_count
    app.state.started_at = time.monotonic()  # /health says "starting" for a while
    app.state.worker_seen = False
    yield


def create_served_app() -> FastAPI:
    """The app as run_server.py serves it: logs configured first in each API process
    (uvicorn starts WEB_CONCURRENCY processes afresh, without run_server.py's logging)."""
    settings = get_settings()
    configure_logs(settings.log_level, settings.log_format)
    app = create_app()
    # What importing and building the app made lives as long as the process: leave it out
    # of the collector's full passes (each walked ~350,000 objects: about 0.15 s of CPU)
    gc.collect()
    gc.freeze()
    return app


def create_app() -> FastAPI:
    app = FastAPI(
        title="Switchboard",
        summary="AI customer service on WhatsApp Business, with humans one call away.",
        lifespan=_lifespan,
        docs_url=None,  # served by api/docs.py from our own files, not a CDN
        redoc_url=None,
        # FastAPI's OpenTelemetry hooks ask for the global providers on every request;
        # our metrics are Prometheus' (api.access) and nothing here configures OpenTelemetry
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    install_error_handlers(app)
    metrics.instrument(app)
    routers = (
        webhook, handoff, conversations, customers, admin, operators, media, documents,
        notifications, templates, onboarding, desk, canned, shopify, reports, channels,
        twilio_webhook, instagram, business_hours, carts,
    )  # fmt: skip
    for module in (*routers, health, metrics):
        app.include_router(module.router)
    docs.install(app)  # /docs: Swagger UI, offline
    install_console(app)  # /console: operator pages
    install_sandbox(app)  # /sandbox: only when enabled, never next to a real Graph API
    app.add_middleware(BodyLimit)  # counts every body before anything reads it
    app.add_middleware(AccessObserver)  # metrics and access lines, with BodyLimit's 413s
    app.add_middleware(TrustedProxies)  # outermost: who the client is, for everything inside
    return app
