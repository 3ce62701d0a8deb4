"""Twilio WhatsApp webhooks: inbound messages and status callbacks, signature-checked with
the sender's auth token over the public URL (`PUBLIC_BASE_URL` + path behind a proxy)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError

from api import body_limit
from api.body_limit import BodyTooLarge
from channels.twilio.signature import valid_signature
from channels.twilio.webhook import number_of, parse_inbound, parse_status
from channels.webhook import InvalidNotification, Notification
from observability.logs import get_logger
from observability.metrics import WEBHOOK_REQUESTS
from services.ingest.flows import intake
from services.ingest.twilio import twilio_account
from settings import get_settings

log = get_logger(__name__)
router = APIRouter(tags=["webhook"])
_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.post("/webhooks/twilio")
async def inbound(request: Request) -> Response:
    """A customer's WhatsApp message through Twilio. 200 (empty TwiML) once stored."""
    return await _receive(
        request, "To", lambda form: _notification(messages=(parse_inbound(form),))
    )


@router.post("/webhooks/twilio/status")
async def status_callback(request: Request) -> Response:
    """Twilio's status callback for a message we sent: moves it forward, never back."""

    def parse(form: dict[str, str]) -> Notification:
        update = parse_status(form)
        return _notification(statuses=(update,) if update else ())

    return await _receive(request, "From", parse)


def _notification(*, messages: tuple = (), statuses: tuple = ()) -> Notification:
    return Notification(messages=messages, statuses=statuses, others=())


async def _receive(
    request: Request, sender_field: str, parse: Callable[[dict[str, str]], Notification]
) -> Response:
    settings = get_settings()
    body_limit.allow(request.scope, settings.webhook_max_body_bytes)
    try:
        body = await request.body()
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    except BodyTooLarge:
        return _refuse(413, "payload too large", "too_large")
    except (UnicodeDecodeError, ValueError):
        return _refuse(400, "not a form-encoded Twilio webhook", "invalid")
    form = dict(pairs)
    sender = number_of(form.get(sender_field))
    account = await run_in_threadpool(twilio_account, sender) if sender else None
    if account is None:
        return _refuse(403, f"{sender_field} is not a connected Twilio WhatsApp sender", "unknown")
    if account.account_sid and form.get("AccountSid") != account.account_sid:
        return _refuse(403, "AccountSid does not match the sender's account", "bad_signature")
    url = _public_url(request, settings.public_base_url)
    header = request.headers.get("x-twilio-signature")
    if not valid_signature(account.auth_token, url, pairs, header):
        return _refuse(403, "missing or invalid X-Twilio-Signature", "bad_signature")
    try:
        notification = parse(form)
    except InvalidNotification as exc:
        return _refuse(400, f"not a Twilio webhook: {exc}", "invalid")
    try:
        await run_in_threadpool(intake, notification, request.app.state.scheduler)
    except OperationalError:
        WEBHOOK_REQUESTS.labels("db_down").inc()
        raise  # 503: Twilio retries
    WEBHOOK_REQUESTS.labels("accepted").inc()
    return Response(_EMPTY_TWIML, media_type="text/xml")


def _public_url(request: Request, public_base_url: str | None) -> str:
    """The URL Twilio signed: the public one when we sit behind a proxy."""
    if not public_base_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{public_base_url.rstrip('/')}{request.url.path}{query}"


def _refuse(status: int, reason: str, outcome: str) -> JSONResponse:
    WEBHOOK_REQUESTS.labels(outcome).inc()
    log.warning("twilio.webhook.rejected", status=status, reason=reason)
    return JSONResponse({"detail": reason}, status_code=status)
