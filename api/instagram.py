"""The Instagram webhook: Meta's verification handshake and signed messaging events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.exc import OperationalError

from api import body_limit, webhook
from api.body_limit import BodyTooLarge
from channels.instagram.webhook import parse_instagram
from channels.webhook import InvalidNotification, load_json, verify_signature
from observability.logs import get_logger
from observability.metrics import WEBHOOK_REQUESTS
from services.ingest.instagram import intake_instagram
from settings import get_settings

log = get_logger(__name__)
router = APIRouter(tags=["webhook"])


@router.get("/webhooks/instagram", response_class=PlainTextResponse)
def verify(
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    """Meta's subscription handshake, with the same VERIFY_TOKEN as /webhook."""
    return webhook.verify(mode=mode, token=token, challenge=challenge)


@router.post("/webhooks/instagram")
async def receive(request: Request) -> JSONResponse:
    """Instagram messaging webhooks. 200 means every event in it is stored."""
    settings = get_settings()
    limit = settings.webhook_max_body_bytes
    body_limit.allow(request.scope, limit)
    try:
        body = await request.body()
    except BodyTooLarge:
        return _refuse(413, f"payload too large: at most {limit} bytes", "too_large")
    secret = settings.instagram_webhook_secret
    if secret is None:
        return _refuse(401, "INSTAGRAM_APP_SECRET is not configured", "no_secret")
    header = request.headers.get("x-hub-signature-256")
    if not verify_signature(secret=secret.get_secret_value().encode(), body=body, header=header):
        return _refuse(401, "missing or invalid X-Hub-Signature-256", "bad_signature")
    try:
        parsed = parse_instagram(load_json(body))
    except (ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, InvalidNotification) else "body is not valid JSON"
        return _refuse(400, f"not an Instagram notification: {reason}", "invalid")
    try:
        result = await run_in_threadpool(intake_instagram, parsed, request.app.state.scheduler)
    except OperationalError:
        WEBHOOK_REQUESTS.labels("db_down").inc()
        raise  # 503 from the error handler: Meta retries
    WEBHOOK_REQUESTS.labels("accepted").inc()
    return JSONResponse(
        {"stored": len(result.stored), "duplicates": result.duplicates, "rejected": result.rejected}
    )


def _refuse(status: int, reason: str, outcome: str) -> JSONResponse:
    WEBHOOK_REQUESTS.labels(outcome).inc()
    log.warning("instagram.webhook.rejected", status=status, reason=reason)
    return JSONResponse({"detail": reason}, status_code=status)
