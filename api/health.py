"""/health for load balancers and people; /stats for figures."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import MonitoringCallerDep
from persistence.db import get_sessionmaker
from services.errors import NotFound
from services.merchants import merchant as merchants
from services.monitoring import health as monitoring
from settings import get_settings

router = APIRouter(tags=["monitoring"])


def _check(request: Request) -> dict[str, Any]:
    with get_sessionmaker()() as session:
        database = monitoring.database_ok(session)
    client = request.app.state.redis()
    workers = request.app.state.worker_count()
    return {
        "database": "ok" if database else "down",
        "redis": "ok" if monitoring.redis_ok(client) else "down",
        "workers": workers,
        "llm": monitoring.llm_state(),
    }


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    """200 when PostgreSQL and Redis answer; 503 otherwise. Workers and LLM are reported:
    `starting` until the first worker answers (within STARTUP_GRACE_SECONDS of the start),
    `degraded` without a worker or with an LLM configured that does not answer."""
    state = await run_in_threadpool(_check, request)
    healthy = state["database"] == "ok" and state["redis"] == "ok"
    llm = state["llm"]
    if not llm["configured"]:
        llm["detail"] = "LLM not configured: conversations are flagged for a human"
    elif not llm["reachable"] and all(c["reachable"] is False for c in llm["checks"].values()):
        llm["detail"] = "no LLM provider answers: conversations are flagged for a human"
    state["status"] = _status(request, healthy=healthy, workers=state["workers"], llm=llm)
    return JSONResponse(state, status_code=200 if healthy else 503)


def _status(request: Request, *, healthy: bool, workers: int, llm: dict[str, Any]) -> str:
    if not healthy:
        return "down"
    if workers:
        request.app.state.worker_seen = True
    elif _starting(request):
        return "starting"
    llm_down = "detail" in llm and llm["configured"]
    return "ok" if workers and not llm_down else "degraded"


def _starting(request: Request) -> bool:
    """No worker has answered yet since this API started, and it started moments ago."""
    state = request.app.state
    since = time.monotonic() - state.started_at
    return not state.worker_seen and since < get_settings().startup_grace_seconds


def _stats(request: Request, merchant_id: int | None) -> dict[str, Any]:
    client = request.app.state.redis()
    with get_sessionmaker()() as session:
        if merchant_id is not None:
            merchants.get_merchant(session, merchant_id)  # 404 for an unknown merchant
        figures = monitoring.conversation_figures(session, merchant_id=merchant_id)
    if merchant_id is None:  # the deployment's machinery belongs to no merchant
        figures["buffered_conversations"] = monitoring.buffered(request.app.state.buffer())
        figures["queues"] = monitoring.queue_depths(client)
    return {"merchant_id": merchant_id, **figures}


@router.get("/stats", responses={401: {}, 404: {}, 429: {}})
async def stats(
    request: Request,
    caller: MonitoringCallerDep,
    merchant_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    """Conversations by mode, messages in and out, replies by author; for the whole
    deployment also open bursts, queue depths and webhook rejections. Needs
    `Authorization: Bearer <METRICS_TOKEN or an operator token>`, except from this machine
    to a server on loopback without METRICS_TOKEN. A merchant's operator gets their
    merchant's figures (another `merchant_id` is a 404); a platform operator or
    METRICS_TOKEN the whole deployment's, or one merchant's with `?merchant_id=`."""
    own = caller.merchant_id if caller is not None else None
    if own is not None and merchant_id not in (None, own):
        raise NotFound(f"merchant {merchant_id} does not exist")
    return await run_in_threadpool(_stats, request, own or merchant_id)
