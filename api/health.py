"""/health for load balancers and people; /stats for figures."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import MonitoringDep
from persistence.db import get_sessionmaker
from services.monitoring import health as monitoring

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
    """200 when PostgreSQL and Redis answer; 503 otherwise. Workers and LLM are reported."""
    state = await run_in_threadpool(_check, request)
    healthy = state["database"] == "ok" and state["redis"] == "ok"
    if not state["llm"]["configured"]:
        state["llm"]["detail"] = "LLM not configured: conversations are flagged for a human"
    state["status"] = "ok" if healthy and state["workers"] else ("degraded" if healthy else "down")
    return JSONResponse(state, status_code=200 if healthy else 503)


def _stats(request: Request) -> dict[str, Any]:
    client = request.app.state.redis()
    with get_sessionmaker()() as session:
        figures = monitoring.conversation_figures(session)
    figures["buffered_conversations"] = monitoring.buffered(request.app.state.buffer())
    figures["queues"] = monitoring.queue_depths(client)
    return figures


@router.get("/stats", dependencies=[MonitoringDep], responses={401: {}, 429: {}})
async def stats(request: Request) -> dict[str, Any]:
    """Conversations by mode, messages in and out, open bursts and queue depths. Needs
    `Authorization: Bearer <METRICS_TOKEN or an operator token>`, except from this machine
    to a server on loopback without METRICS_TOKEN."""
    return await run_in_threadpool(_stats, request)
