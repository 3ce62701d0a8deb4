"""Posting signed webhooks to this same app's /webhook, as Meta would.

The request goes through the whole ASGI app in-process (signature check included), so it
needs no address: it works behind any proxy and whatever HOST the server binds.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
from fastapi import FastAPI

from channels.simulators.webhooks import sign, status_payload
from services.sandbox import phone as sandbox_phone
from services.sandbox.sandbox import WABA_ID, SandboxNumber
from settings import get_settings

log = logging.getLogger(__name__)


class SandboxNotConfigured(Exception):
    pass


async def post_webhook(app: FastAPI, payload: dict[str, Any]) -> httpx.Response:
    secret = get_settings().whatsapp_app_secret
    if secret is None:
        raise SandboxNotConfigured("WHATSAPP_APP_SECRET is not set: the sandbox cannot sign")
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(body, secret.get_secret_value()),
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.internal") as client:
        response = await client.post("/webhook", content=body, headers=headers)
    if response.status_code != 200:
        log.warning(
            "sandbox.webhook.refused status=%s body=%s", response.status_code, response.text
        )
    return response


async def report_status(
    app: FastAPI,
    client: Any,
    *,
    phone_number_id: str,
    display_phone_number: str,
    chat: str,
    wamid: str,
    status: str,
    callback: str | None,
) -> None:
    """Tell the business what happened to its message, once per status and in order."""
    if not sandbox_phone.set_status(client, phone_number_id, chat, wamid, status):
        return
    payload = status_payload(
        phone_number_id=phone_number_id, display_phone_number=display_phone_number,
        waba_id=WABA_ID, wamid=wamid, status=status, recipient_id=chat, callback_data=callback,
    )  # fmt: skip
    await post_webhook(app, payload)


async def report_read(
    app: FastAPI,
    client: Any,
    number: SandboxNumber,
    chat: str,
    unread: list[tuple[str, str | None]],
) -> None:
    for wamid, callback in unread:
        await report_status(
            app, client, phone_number_id=number.phone_number_id,
            display_phone_number=number.display_phone_number, chat=chat, wamid=wamid,
            status="read", callback=callback,
        )  # fmt: skip
