"""GET /metrics: Prometheus text format, for the API and (multiprocess) the workers."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry

from api.deps import DeploymentMonitoringDep
from observability.metrics import exposition
from services.monitoring.collector import StateCollector

router = APIRouter(tags=["monitoring"])


def instrument(app: FastAPI) -> None:
    """The state figures read at each scrape (request counts and latencies per route
    template come from api.access)."""
    state = CollectorRegistry(auto_describe=False)
    state.register(
        StateCollector(lambda: app.state.redis(), lambda: app.state.buffer().open_bursts())
    )
    app.state.metrics_state = state


@router.get("/metrics", include_in_schema=False, dependencies=[DeploymentMonitoringDep])
async def metrics(request: Request) -> Response:
    """METRICS_TOKEN or a platform operator's token (api.deps.require_deployment_monitoring):
    the figures are the whole deployment's."""
    body = await run_in_threadpool(exposition, request.app.state.metrics_state)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
