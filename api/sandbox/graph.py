"""The sandbox's Graph API, mounted at /sandbox/graph: the same simulator the tests and the
benchmarks use (channels.simulators.graph), over the sandbox's Redis state
(services.sandbox.simulator). Bearer tokens are checked against the business numbers'
access tokens.

A send shows up on the person's phone (the sandbox chat); "sent" and "delivered" statuses
follow as signed webhooks, "read" when the person has the chat open.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.sandbox.webhooks import report_status
from api.uploads import gated_route
from channels.simulators.graph import GraphSimulator
from channels.simulators.graph_sends import Delivery
from channels.simulators.http import Request as WireRequest
from persistence.db import session_scope
from services.sandbox.sandbox import token_owner
from services.sandbox.simulator import SentHook, graph_simulator
from settings import SANDBOX_GRAPH_PATH, get_settings


async def _media_uploader(request: Request) -> bool:
    """A media upload (POST .../media) may be as large as MEDIA_MAX_BYTES only with a
    business number's token; anything else keeps the common limit, and the simulator
    answers a wrong token as Meta does."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if request.method != "POST" or not request.url.path.endswith("/media"):
        return False
    if scheme.lower() != "bearer" or not token.strip():
        return False

    def known() -> bool:
        with session_scope() as session:
            return token_owner(session, None, token.strip()) is not None

    return await run_in_threadpool(known)


router = APIRouter(
    prefix=SANDBOX_GRAPH_PATH,
    include_in_schema=False,
    route_class=gated_route(_media_uploader, lambda: get_settings().media_max_bytes),
)
STATUS_DELAY_SECONDS = 0.3


class _Owners:
    """The token check: a bearer token must be a business number's access token (that
    number's, when the request names one). Remembers the display numbers it met."""

    def __init__(self) -> None:
        self.display_numbers: dict[str, str] = {}

    def __call__(self, phone_number_id: str | None, token: str) -> bool:
        with session_scope() as session:
            phone = token_owner(session, phone_number_id, token)
            if phone is None:
                return False
            self.display_numbers[phone.phone_number_id] = phone.display_phone_number or ""
            return True


def simulator(
    request: Request, *, owners: _Owners | None = None, on_sent: SentHook | None = None
) -> GraphSimulator:
    return graph_simulator(
        request.app.state.redis(),
        tokens=owners or _Owners(),
        public_url=str(request.base_url).rstrip("/") + SANDBOX_GRAPH_PATH,
        on_sent=on_sent,
    )


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
async def graph_api(request: Request, path: str, background: BackgroundTasks) -> Response:
    owners = _Owners()
    sent: list[Delivery] = []
    graph = simulator(request, owners=owners, on_sent=sent.append)
    answer = await run_in_threadpool(graph.handle, await wire_request(request, path))
    for delivery in sent:
        display = owners.display_numbers.get(delivery.phone_number_id, "")
        background.add_task(_deliver, request.app, request.app.state.redis(), delivery, display)
    return Response(content=answer.body, status_code=answer.status, headers=answer.headers)


async def wire_request(request: Request, path: str) -> WireRequest:
    """The request as the simulators read it (channels.simulators.http)."""
    return WireRequest(
        method=request.method,
        path=f"/{path}",
        query=parse_qs(request.url.query),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body(),
    )


async def _deliver(app: FastAPI, client: Any, sent: Delivery, display_phone_number: str) -> None:
    for status in ("sent", "delivered"):
        await asyncio.sleep(STATUS_DELAY_SECONDS)
        await report_status(
            app, client, phone_number_id=sent.phone_number_id,
            display_phone_number=display_phone_number, chat=sent.recipient, wamid=sent.wamid,
            status=status, callback=sent.callback,
        )  # fmt: skip
