"""Routes that take large bodies (media uploads) check their caller before the body is read.

FastAPI reads and parses a route's body (a multipart upload spools to temporary files)
before it runs the route's dependencies, authentication among them. An upload route
therefore gets a gate that runs first, on the headers alone: it refuses a stranger (the
body is never read) or lifts the request's body limit (api.body_limit) for a known caller.
The route's own dependencies then run as usual.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from api import body_limit

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
# Raises to refuse the request; returns whether the caller may send the larger body.
Gate = Callable[[Request], Awaitable[bool]]

# multipart boundaries and the form's small fields, beyond the file itself
FORM_OVERHEAD_BYTES = 64 * 1024


def gated_route(gate: Gate, limit: Callable[[], int]) -> type[APIRoute]:
    """A route class whose requests pass `gate` before their body is read; those it lets
    through may send `limit()` bytes of file plus the form around it."""

    class GatedUpload(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def gated(request: Request) -> Response:
                if await gate(request):
                    body_limit.allow(request.scope, limit() + FORM_OVERHEAD_BYTES)
                return await handler(request)

            return gated

    return GatedUpload


def gated_post(
    router: APIRouter, path: str, *, gate: Gate, limit: Callable[[], int], **options: Any
) -> Callable[[Endpoint], Endpoint]:
    """`@router.post(path, **options)` for an upload route: the gate runs first."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(
            path, endpoint, methods=["POST"], route_class_override=gated_route(gate, limit),
            **options,
        )  # fmt: skip
        return endpoint

    return register
