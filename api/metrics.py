"""GET /metrics: Prometheus text format, for the API and (multiprocess) the workers."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import metrics as http_metrics

from observability.metrics import exposition
from services.errors import Unauthorized
from services.monitoring.collector import StateCollector
from settings import get_settings

router = APIRouter(tags=["monitoring"])


# Created once per process: a second app (tests make many) must count into the same metrics,
# not be left uninstrumented by a duplicate registration.
_HTTP = http_metrics.default()


def instrument(app: FastAPI) -> None:
    """Request counts and latencies per route template (not per raw path)."""
    Instrumentator(
        excluded_handlers=["/metrics"],
        should_group_status_codes=False,
        should_instrument_requests_inprogress=False,
    ).add(_HTTP).instrument(app)
    state = CollectorRegistry(auto_describe=False)
    state.register(
        StateCollector(lambda: app.state.redis(), lambda: app.state.buffer().open_bursts())
    )
    app.state.metrics_state = state


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    token = get_settings().metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        expected = token.get_secret_value().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise Unauthorized("/metrics needs Authorization: Bearer <METRICS_TOKEN>")
    body = await run_in_threadpool(exposition, request.app.state.metrics_state)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
