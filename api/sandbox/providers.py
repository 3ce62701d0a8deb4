"""The sandbox's Twilio and Instagram: the simulators the tests use (channels.simulators),
mounted at /sandbox/twilio and /sandbox/instagram for the sandbox's own accounts, and the
webhooks a sandbox person's message becomes.

A send one of them accepts shows up on the person's phone (the sandbox chat); Twilio's
"sent" and "delivered" callbacks follow, signed as Twilio signs them. Inbound messages go
through this same app in-process, so the signature checks run as in production.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, BackgroundTasks, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.sandbox.graph import STATUS_DELAY_SECONDS, wire_request
from channels.simulators.instagram import InstagramSimulator, message_event, webhook_body
from channels.simulators.instagram import signed as instagram_signed
from channels.simulators.twilio import TwilioSimulator
from persistence.db import session_scope
from persistence.models import ChannelType
from services.merchants.merchant import find_phone_number
from services.sandbox import phone as sandbox_phone
from services.sandbox.channels import (
    ACCOUNTS,
    INSTAGRAM_ACCOUNT_ID,
    INSTAGRAM_CUSTOMER,
    TWILIO_ACCOUNT_SID,
    TWILIO_SENDER,
)
from services.sandbox.phone import Bubble, Persona
from settings import SANDBOX_INSTAGRAM_PATH, SANDBOX_TWILIO_PATH, get_settings

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
INTERNAL = "http://sandbox.internal"  # the in-process origin our webhooks are posted to


def _secret_of(type: str, external_id: str) -> str | None:
    """The sandbox account's secret (Twilio's auth token, Instagram's access token)."""
    with session_scope() as session:
        account = find_phone_number(session, external_id, type=type)
        return account.access_token if account is not None else None


# --- the providers' side -------------------------------------------------------------------


@router.api_route(SANDBOX_TWILIO_PATH + "/{path:path}", methods=["GET", "POST"])
async def twilio_api(request: Request, path: str, background: BackgroundTasks) -> Response:
    token = await run_in_threadpool(_secret_of, ChannelType.TWILIO_WHATSAPP, TWILIO_SENDER)
    fake = TwilioSimulator(account_sid=TWILIO_ACCOUNT_SID, auth_token=token or "")
    answer = await run_in_threadpool(fake.handle, await wire_request(request, path))
    client = request.app.state.redis()
    for sent in fake.sent:
        chat = sent["To"].removeprefix("whatsapp:+")
        sandbox_phone.add_bubble(client, TWILIO_SENDER, chat, _twilio_bubble(sent))
        background.add_task(_twilio_statuses, request.app, client, sent, token or "")
    return Response(content=answer.body, status_code=answer.status, headers=answer.headers)


def _twilio_bubble(sent: dict[str, str]) -> Bubble:
    media = sent.get("MediaUrl")
    kind = "image" if media else "text"
    if sent.get("ContentSid"):
        text = f"[template {sent['ContentSid']}] {sent.get('ContentVariables', '')}"
        return Bubble(id=sent["_sid"], mine=False, kind="template", text=text, status="sending")
    return Bubble(
        id=sent["_sid"], mine=False, kind=kind, text=sent.get("Body") or None, media_link=media,
        status="sending",
    )  # fmt: skip


async def _twilio_statuses(app: FastAPI, client: Any, sent: dict[str, str], token: str) -> None:
    chat = sent["To"].removeprefix("whatsapp:+")
    fake = TwilioSimulator(account_sid=TWILIO_ACCOUNT_SID, auth_token=token)
    for status in ("sent", "delivered"):
        await asyncio.sleep(STATUS_DELAY_SECONDS)
        if not sandbox_phone.set_status(client, TWILIO_SENDER, chat, sent["_sid"], status):
            continue
        form = fake.status_form(sid=sent["_sid"], status=status, sender=TWILIO_SENDER,
                                customer=f"+{chat}")  # fmt: skip
        await post_twilio(app, "/webhooks/twilio/status", form, token)


@router.api_route(SANDBOX_INSTAGRAM_PATH + "/{path:path}", methods=["GET", "POST"])
async def instagram_api(request: Request, path: str) -> Response:
    token = await run_in_threadpool(_secret_of, ChannelType.INSTAGRAM, INSTAGRAM_ACCOUNT_ID)
    fake = InstagramSimulator(
        version=get_settings().instagram_api_version, tokens={INSTAGRAM_ACCOUNT_ID: token or ""}
    )
    # the profile Instagram tells of the sandbox's customer (the User Profile API)
    fake.add_user(INSTAGRAM_CUSTOMER.wa_id, name=INSTAGRAM_CUSTOMER.name, username="ivy.runs")
    answer = await run_in_threadpool(fake.handle, await wire_request(request, path))
    client = request.app.state.redis()
    for sent in fake.sent:
        bubble = _instagram_bubble(sent)
        sandbox_phone.add_bubble(client, INSTAGRAM_ACCOUNT_ID, sent["recipient"]["id"], bubble)
    return Response(content=answer.body, status_code=answer.status, headers=answer.headers)


def _instagram_bubble(sent: dict[str, Any]) -> Bubble:
    message = sent["message"]
    replies = [r["title"] for r in message.get("quick_replies", [])]
    attachment = message.get("attachment") or {}
    payload = attachment.get("payload") or {}
    if attachment.get("type") == "template":  # product cards
        lines = [e["title"] + (f" · {e['subtitle']}" if e.get("subtitle") else "")
                 for e in payload.get("elements", [])]  # fmt: skip
        return Bubble(id=sent["_mid"], mine=False, kind="cards", text="\n".join(lines),
                      status="delivered")  # fmt: skip
    return Bubble(
        id=sent["_mid"], mine=False, kind=attachment.get("type") or "text",
        text=message.get("text"), media_link=payload.get("url"), buttons=replies,
        status="delivered",
    )  # fmt: skip


# --- what the person sends -----------------------------------------------------------------


async def post_twilio(app: FastAPI, path: str, form: dict[str, str], token: str) -> httpx.Response:
    """POST a form to this app as Twilio does, signed over the URL Twilio was given."""
    base = get_settings().public_base_url or INTERNAL
    fake = TwilioSimulator(account_sid=TWILIO_ACCOUNT_SID, auth_token=token)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": fake.sign(f"{base.rstrip('/')}{path}", form),
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=INTERNAL) as client:
        response = await client.post(path, content=urlencode(form), headers=headers)
    if response.status_code != 200:
        log.warning("sandbox.twilio.refused status=%s body=%s", response.status_code,
                    response.text)  # fmt: skip
    return response


async def send_as(app: FastAPI, persona: Persona, text: str, message_id: str) -> bool:
    """The person's text through their channel's webhook; True when it was accepted."""
    external_id = ACCOUNTS.get(persona.channel)
    secret = external_id and await run_in_threadpool(_secret_of, persona.channel, external_id)
    if not secret:
        return False
    if persona.channel == ChannelType.TWILIO_WHATSAPP:
        fake = TwilioSimulator(account_sid=TWILIO_ACCOUNT_SID, auth_token=secret)
        form = fake.inbound_form(sender=TWILIO_SENDER, customer=f"+{persona.wa_id}", body=text,
                                 profile_name=persona.name, message_sid=message_id)  # fmt: skip
        return (await post_twilio(app, "/webhooks/twilio", form, secret)).status_code == 200
    app_secret = get_settings().instagram_webhook_secret
    if app_secret is None:
        return False
    event = message_event(account_id=INSTAGRAM_ACCOUNT_ID, igsid=persona.wa_id, text=text,
                          mid=message_id)  # fmt: skip
    body, headers = instagram_signed(
        webhook_body(INSTAGRAM_ACCOUNT_ID, [event]), secret=app_secret.get_secret_value()
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=INTERNAL) as client:
        response = await client.post("/webhooks/instagram", content=body, headers=headers)
    return response.status_code == 200
