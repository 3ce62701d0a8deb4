"""The sandbox's demo Shopify store, mounted at /sandbox/shopify: the Admin GraphQL API
the catalog sync reads and the Storefront API checkout calls, answered by the fake store
of services.sandbox.demo_store (tokens checked as Shopify checks them)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.sandbox.graph import wire_request
from services.sandbox.demo_store import demo_simulator
from settings import SANDBOX_SHOPIFY_PATH

router = APIRouter(prefix=SANDBOX_SHOPIFY_PATH, include_in_schema=False)


@router.api_route("/{path:path}", methods=["GET", "POST"])
async def shopify_api(request: Request, path: str) -> Response:
    answer = await run_in_threadpool(demo_simulator().handle, await wire_request(request, path))
    return Response(content=answer.body, status_code=answer.status, headers=answer.headers)
