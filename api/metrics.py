"""GET /metrics: Prometheus text format, for the API and (multiprocess) the workers."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import metrics as http_metrics

from api.deps import DeploymentMonitoringDep
from observability.metrics import exposition
from services.monitoring.collector import StateCollector

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


@router.get("/metrics", include_in_schema=False, dependencies=[DeploymentMonitoringDep])
async def metrics(request: Request) -> Response:
    """METRICS_TOKEN or a platform operator's token (api.deps.require_deployment_monitoring):
    the figures are the whole deployment's."""
    body = await run_in_threadpool(exposition, request.app.state.metrics_state)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
