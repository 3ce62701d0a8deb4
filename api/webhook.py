"""The WhatsApp webhook: verification handshake and signed notifications."""

from __future__ import annotations

import hmac
from typing import Annotated

import psycopg
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse

from api import body_limit
from api.body_limit import BodyTooLarge
from channels.webhook import InvalidNotification, load_json, parse_notification, verify_signature
from observability.logs import get_logger
from observability.metrics import WEBHOOK_REQUESTS
from services.ingest import inbox
from settings import get_settings

log = get_logger(__name__)
router = APIRouter(tags=["webhook"])


@router.get("/webhook", response_class=PlainTextResponse)
def verify(
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    """Meta's subscription handshake: echo the challenge when the verify token matches."""
    expected = get_settings().verify_token
    if (
        mode == "subscribe"
        and expected is not None
        and token is not None
        and challenge is not None
        and hmac.compare_digest(token.encode(), expected.get_secret_value().encode())
    ):
        return PlainTextResponse(challenge)
    return PlainTextResponse("verification failed", status_code=403)


@router.post("/webhook")
async def receive(request: Request) -> JSONResponse:
    """WhatsApp Cloud API notifications. 200 means the notification is durable: committed
    to the inbox, from which a worker stores its messages and applies its statuses."""
    settings = get_settings()
    limit = settings.webhook_max_body_bytes
    body_limit.allow(request.scope, limit)  # counted as it streams, chunked or not
    try:
        body = await request.body()
    except BodyTooLarge:
        return _refuse(413, f"payload too large: at most {limit} bytes", "too_large")
    secret = settings.whatsapp_app_secret
    if secret is None:
        return _refuse(
            401, "WHATSAPP_APP_SECRET is not configured: webhooks cannot be verified", "no_secret"
        )
    header = request.headers.get("x-hub-signature-256")
    if not verify_signature(secret=secret.get_secret_value().encode(), body=body, header=header):
        return _refuse(401, "missing or invalid X-Hub-Signature-256", "bad_signature")
    try:
        notification = parse_notification(load_json(body))
    except (ValueError, RecursionError) as exc:  # InvalidNotification and bad JSON/UTF-8
        return _refuse(400, f"not a WhatsApp notification: {_reason(exc)}", "invalid")
    try:
        await run_in_threadpool(inbox.accept, notification, body)
    except psycopg.OperationalError as exc:  # the pool's timeout included
        WEBHOOK_REQUESTS.labels("db_down").inc()
        log.error("database.unavailable", path=request.url.path, error=exc)
        return JSONResponse({"detail": "database unavailable, retry later"}, status_code=503)
    WEBHOOK_REQUESTS.labels("accepted").inc()
    return JSONResponse({"received": True})


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, InvalidNotification) else "body is not valid JSON"


def _refuse(status: int, reason: str, outcome: str) -> JSONResponse:
    WEBHOOK_REQUESTS.labels(outcome).inc()
    log.warning("whatsapp.webhook.rejected", status=status, reason=reason)
    return JSONResponse({"detail": reason}, status_code=status)
