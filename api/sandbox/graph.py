"""The sandbox's fake Graph API, mounted at /sandbox/graph: message sends (text, media,
templates, interactive), read receipts with typing indicators, media upload, info and
download, and message template management. Bearer tokens are checked against the
business numbers' access tokens.

A send shows up on the person's phone (the sandbox chat); "sent" and "delivered" statuses
follow as signed webhooks, "read" when the person has the chat open. Template submissions
are approved at once: the sandbox has no review queue.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from typing import Any

from fastapi import APIRouter, BackgroundTasks, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.sandbox.webhooks import report_status
from persistence.db import session_scope
from persistence.models import PhoneNumber
from persistence.storage import StorageError, get_storage
from services.media.library import safe_filename
from services.sandbox import phone as sandbox_phone
from services.sandbox.graph_api import (
    GraphError,
    approved_template,
    bubble_of,
    check_read,
    invalid_token,
    new_media_id,
    new_wamid,
    recipient_of,
    send_answer,
    template_exists,
)
from services.sandbox.sandbox import token_owner
from settings import SANDBOX_GRAPH_PATH

router = APIRouter(prefix=SANDBOX_GRAPH_PATH, include_in_schema=False)
STATUS_DELAY_SECONDS = 0.3


def _redis(request: Request) -> Any:
    return request.app.state.redis()


def _error(err: GraphError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.http_status)


def _owner(request: Request, phone_number_id: str | None) -> PhoneNumber | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    with session_scope() as session:
        return token_owner(session, phone_number_id, token.strip())


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise GraphError(100, "Invalid parameter: request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise GraphError(100, "Invalid parameter: request body must be a JSON object")
    return body


@router.get("/media-download/{media_id}")
async def media_download(request: Request, media_id: str, token: str = "") -> Response:
    if await run_in_threadpool(_owner, request, None) is None:
        return Response(status_code=401)
    client = _redis(request)
    meta = sandbox_phone.media(client, media_id)
    if meta is None or sandbox_phone.media_for_url(client, token) != media_id:
        return Response(status_code=404)  # expired URL, as Meta's after five minutes
    try:
        data = await run_in_threadpool(get_storage().get, meta["storage_key"])
    except StorageError:
        return Response(status_code=404)
    return Response(content=data, media_type=meta["mime_type"])


@router.post("/{version}/{phone_number_id}/messages")
async def messages(
    request: Request, version: str, phone_number_id: str, background: BackgroundTasks
) -> Response:
    phone = await run_in_threadpool(_owner, request, phone_number_id)
    if phone is None:
        return _error(invalid_token())
    try:
        body = await _json_object(request)
        if body.get("status") == "read":
            _mark_read(_redis(request), body)
            return JSONResponse({"success": True})
        chat = recipient_of(body)
        wamid = new_wamid()
        bubble = bubble_of(body, wamid)
    except GraphError as err:
        return _error(err)
    bubble.status = "sending"
    sandbox_phone.add_bubble(_redis(request), phone_number_id, chat, bubble)
    background.add_task(_deliver, request.app, _redis(request), phone, chat, wamid, bubble.callback)
    return JSONResponse(send_answer(chat, wamid))


def _mark_read(client: Any, body: dict[str, Any]) -> None:
    """The business read the person's message: blue ticks, and maybe "typing…"."""
    wamid = check_read(body)
    found = sandbox_phone.locate(client, wamid)
    if found is None:
        raise GraphError(100, f"Invalid parameter: message {wamid} does not exist")
    pnid, chat = found
    sandbox_phone.set_status(client, pnid, chat, wamid, "read")
    if body.get("typing_indicator"):
        sandbox_phone.set_typing(client, pnid, chat)


async def _deliver(
    app: FastAPI, client: Any, phone: PhoneNumber, chat: str, wamid: str, callback: str | None
) -> None:
    for status in ("sent", "delivered"):
        await asyncio.sleep(STATUS_DELAY_SECONDS)
        await report_status(
            app, client, phone_number_id=phone.phone_number_id,
            display_phone_number=phone.display_phone_number or "", chat=chat, wamid=wamid,
            status=status, callback=callback,
        )  # fmt: skip


@router.post("/{version}/{phone_number_id}/media")
async def upload_media(request: Request, version: str, phone_number_id: str) -> Response:
    if await run_in_threadpool(_owner, request, phone_number_id) is None:
        return _error(invalid_token())
    form = await request.form()
    upload = form.get("file")
    if form.get("messaging_product") != "whatsapp" or isinstance(upload, str) or upload is None:
        return _error(GraphError(100, "Invalid parameter: messaging_product and file are required"))
    data = await upload.read()
    mime_type = str(form.get("type") or upload.content_type or "application/octet-stream")
    media_id = await run_in_threadpool(
        store_media, _redis(request), data, mime_type, upload.filename or "file"
    )
    return JSONResponse({"id": media_id})


def store_media(client: Any, data: bytes, mime_type: str, filename: str) -> str:
    """Keep a file as Meta keeps uploads and customers' media: by media id."""
    media_id = new_media_id()
    key = f"sandbox/{media_id}/{safe_filename(filename, media_id)}"
    get_storage().put(key, data, mime_type)
    sandbox_phone.save_media(
        client, media_id,
        {"storage_key": key, "mime_type": mime_type, "sha256": hashlib.sha256(data).hexdigest(),
         "size": len(data), "filename": filename},
    )  # fmt: skip
    return media_id


@router.post("/{version}/{waba_id}/message_templates")
async def create_template(request: Request, version: str, waba_id: str) -> Response:
    """Template submissions are approved at once: the sandbox has no review queue."""
    if await run_in_threadpool(_owner, request, None) is None:
        return _error(invalid_token())
    try:
        body = await _json_object(request)
        template = approved_template(body)
        if not sandbox_phone.save_template(_redis(request), waba_id, template):
            raise template_exists(template["name"], template["language"])
    except GraphError as err:
        return _error(err)
    return JSONResponse(
        {"id": template["id"], "status": template["status"], "category": template["category"]}
    )


@router.get("/{version}/{waba_id}/message_templates")
async def list_templates(request: Request, version: str, waba_id: str) -> Response:
    if await run_in_threadpool(_owner, request, None) is None:
        return _error(invalid_token())
    name = request.query_params.get("name")
    found = [
        t for t in sandbox_phone.templates(_redis(request), waba_id)
        if name is None or t["name"] == name
    ]  # fmt: skip
    return JSONResponse({"data": found, "paging": {"cursors": {"before": "", "after": ""}}})


@router.get("/{version}/{media_id}")
async def media_info(request: Request, version: str, media_id: str) -> Response:
    phone_number_id = request.query_params.get("phone_number_id")
    if await run_in_threadpool(_owner, request, phone_number_id) is None:
        return _error(invalid_token())
    client = _redis(request)
    meta = sandbox_phone.media(client, media_id)
    if meta is None:
        message = f"Unsupported get request. Object with ID '{media_id}' does not exist"
        return _error(GraphError(100, message))
    token = secrets.token_urlsafe(16)
    sandbox_phone.issue_media_url(client, media_id, token)
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "messaging_product": "whatsapp",
            "url": f"{base}{SANDBOX_GRAPH_PATH}/media-download/{media_id}?token={token}",
            "mime_type": meta["mime_type"],
            "sha256": meta["sha256"],
            "file_size": str(meta["size"]),
            "id": media_id,
        }
    )
