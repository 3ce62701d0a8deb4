"""The sandbox chat: a WhatsApp-like page where a signed-in person plays a customer, or
the admin, of their own merchant (platform operators pick one, or the demo merchant).
What they type becomes a signed Cloud API webhook to /webhook; what the business sends
arrives through the fake Graph API."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.console.auth import (
    ConsoleUser,
    ConsoleUserDep,
    FormUserDep,
    PageNotFound,
    redis_of,
    signed_in_gate,
)
from api.console.templating import clock, make_templates, page
from api.deps import SessionDep
from api.files import file_response
from api.sandbox.graph import simulator
from api.sandbox.providers import send_as
from api.sandbox.webhooks import SandboxNotConfigured, post_webhook, report_read
from api.uploads import gated_post
from channels.simulators.graph import GraphSimulator
from channels.simulators.instagram import new_mid
from channels.simulators.twilio import new_sid
from channels.simulators.webhooks import media_message, message_payload, new_wamid, text_message
from persistence.models import ChannelType
from services.conversations.conversation import find_conversation
from services.conversations.inbox import CHANNEL_LABELS
from services.errors import NotFound
from services.mail.mailer import recorded_mail
from services.merchants import merchant as merchants
from services.sandbox import phone as sandbox_phone
from services.sandbox import sandbox
from services.sandbox.channels import chat_account_id
from services.sandbox.phone import Bubble, Persona
from services.sandbox.sandbox import SandboxNumber
from services.sandbox.simulator import RedisMedia

router = APIRouter(prefix="/sandbox", include_in_schema=False)
templates = make_templates(Path(__file__).parent / "templates")
templates.env.filters["sandbox_clock"] = lambda at: clock(datetime.fromtimestamp(at, UTC))
MAX_UPLOAD_BYTES = 16 * 1024 * 1024


def _setup(db: Session, user: ConsoleUser, merchant_id: int | None) -> SandboxNumber:
    """The caller's merchant's sandbox (platform operators: the one picked by
    `?merchant_id=`, else the demo merchant's); another merchant's is a 404."""
    try:
        chosen = sandbox.sandbox_merchant(user.principal.merchant_id, merchant_id)
        number = sandbox.ensure_sandbox(db, chosen)
    except NotFound:
        raise PageNotFound(user, "no such sandbox") from None
    db.commit()  # the sandbox's own webhooks (other requests) must find its number at once
    return number


def _chat_of(number: SandboxNumber, person: Persona) -> str:
    """The account whose side of the wire holds the person's chat."""
    return chat_account_id(person, number.phone_number_id)


def _chat_url(number: SandboxNumber, wa_id: str) -> str:
    return f"/sandbox?chat={wa_id}&merchant_id={number.merchant_id}"


def _conversation_id(db: Session, number: SandboxNumber, person: Persona) -> int | None:
    try:
        chat = _chat_of(number, person)
        found = find_conversation(db, customer=person.wa_id, phone_number_id=chat)
    except NotFound:
        return None
    return found.id


def _thread_context(
    request: Request, db: Session, number: SandboxNumber, person: Persona, user: ConsoleUser
) -> dict[str, Any]:
    client = redis_of(request)
    return {
        "user": user,
        "merchant_name": number.merchant_name,
        "number": number,
        "person": person,
        "bubbles": sandbox_phone.thread(client, _chat_of(number, person), person.wa_id),
        "typing": sandbox_phone.is_typing(client, _chat_of(number, person), person.wa_id),
        "channel": CHANNEL_LABELS.get(person.channel, person.channel),
        "conversation_id": _conversation_id(db, number, person),
    }


def _person(request: Request, number: SandboxNumber, wa_id: str | None) -> Persona | None:
    client = redis_of(request)
    if wa_id is None:
        return sandbox.DEFAULT_CUSTOMER
    return sandbox.find_person(client, number, wa_id)


@router.get("")
def sandbox_page(
    request: Request, db: SessionDep, user: ConsoleUserDep, chat: str | None = None,
    merchant_id: int | None = None,
) -> Response:  # fmt: skip
    number = _setup(db, user, merchant_id)
    person = _person(request, number, chat) or sandbox.DEFAULT_CUSTOMER
    context = _thread_context(request, db, number, person, user)
    context["people"] = sandbox.people(redis_of(request), number)
    # platform operators pick whose sandbox to play; a merchant's operator has only theirs
    platform = user.principal.merchant_id is None
    context["merchants"] = merchants.list_merchants(db) if platform else []
    return page(templates, request, "sandbox.html", context)


@router.get("/mail")
def mail_page(
    request: Request, db: SessionDep, user: ConsoleUserDep, merchant_id: int | None = None
) -> Response:
    """The mails this sandbox's merchant sent (order codes), recorded while no SMTP is set."""
    number = _setup(db, user, merchant_id)
    mails = recorded_mail(redis_of(request), number.merchant_id)
    context = {"user": user, "number": number, "merchant_name": number.merchant_name,
               "mails": mails}  # fmt: skip
    return page(templates, request, "mail.html", context)


@router.get("/chats/{wa_id}/thread")
def thread_fragment(
    request: Request, wa_id: str, db: SessionDep, user: ConsoleUserDep, tasks: BackgroundTasks,
    merchant_id: int | None = None,
) -> Response:  # fmt: skip
    """The chat, polled while it is open: what the person sees is now read."""
    number = _setup(db, user, merchant_id)
    person = _person(request, number, wa_id)
    if person is None:
        return Response("no such person", status_code=404, media_type="text/plain")
    context = _thread_context(request, db, number, person, user)
    unread = [
        (b.id, b.callback) for b in context["bubbles"] if not b.mine and b.status == "delivered"
    ]
    if unread and person.channel == ChannelType.WHATSAPP_CLOUD:
        tasks.add_task(report_read, request.app, redis_of(request), number, wa_id, unread)
    return page(templates, request, "_thread.html", context)


@router.post("/people")
def add_person(
    request: Request, db: SessionDep, user: FormUserDep,
    name: Annotated[str, Form(max_length=60)] = "", merchant_id: int | None = None,
) -> Response:  # fmt: skip
    number = _setup(db, user, merchant_id)
    persona = sandbox.add_customer(redis_of(request), number, name)
    return RedirectResponse(_chat_url(number, persona.wa_id), status_code=303)


def _kind(mime_type: str) -> str:
    if mime_type in ("image/jpeg", "image/png"):
        return "image"
    if mime_type == "image/webp":
        return "sticker"
    for kind in ("audio", "video"):
        if mime_type.startswith(f"{kind}/"):
            return kind
    return "document"


def _message(
    graph: GraphSimulator, text: str, upload: tuple[bytes, str, str] | None
) -> dict[str, Any]:
    if upload is None:
        return text_message(text)
    data, mime_type, filename = upload
    media_id = graph.add_media(data, mime_type, filename=filename)  # as Meta keeps it
    return media_message(
        _kind(mime_type), media_id=media_id, mime_type=mime_type,
        sha256=hashlib.sha256(data).hexdigest(), caption=text, filename=filename,
    )  # fmt: skip


def _bubble(wamid: str, message: dict[str, Any]) -> Bubble:
    kind = message["type"]
    content = message[kind]
    if kind == "text":
        return Bubble(id=wamid, mine=True, kind=kind, text=content["body"])
    return Bubble(
        id=wamid, mine=True, kind=kind, text=content.get("caption"), media_id=content["id"],
        filename=content.get("filename"),
    )  # fmt: skip


# an attachment is read only from a signed-in person
@gated_post(router, "/chats/{wa_id}/send", gate=signed_in_gate, limit=lambda: MAX_UPLOAD_BYTES)
async def send(
    request: Request,
    wa_id: str,
    db: SessionDep,
    user: FormUserDep,
    text: Annotated[str, Form(max_length=4096)] = "",
    file: Annotated[UploadFile | None, File()] = None,
    merchant_id: int | None = None,
) -> Response:
    """The person sends a message: it reaches /webhook exactly as WhatsApp would post it."""
    number = await run_in_threadpool(_setup, db, user, merchant_id)
    back = RedirectResponse(_chat_url(number, wa_id), status_code=303)
    person = _person(request, number, wa_id)
    upload = None
    if file is not None and file.filename:
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES or not data:
            await run_in_threadpool(user.flash, "Files up to 16 MB, not empty.", "error")
            return back
        upload = (data, (file.content_type or "application/octet-stream").lower(), file.filename)
    if person is None or not (text.strip() or upload):
        return back
    client = redis_of(request)
    if person.channel != ChannelType.WHATSAPP_CLOUD:
        return await _send_elsewhere(request, user, number, person, text.strip(), upload, back)
    message = await run_in_threadpool(_message, simulator(request), text.strip(), upload)
    message["id"] = new_wamid(person.wa_id)
    bubble = _bubble(message["id"], message)
    sandbox_phone.add_bubble(client, number.phone_number_id, person.wa_id, bubble)
    payload = message_payload(
        phone_number_id=number.phone_number_id, display_phone_number=number.display_phone_number,
        waba_id=sandbox.WABA_ID, wa_id=person.wa_id, profile_name=person.name, message=message,
    )  # fmt: skip
    try:
        answer = await post_webhook(request.app, payload)
        delivered = answer.status_code == 200
    except SandboxNotConfigured as exc:
        await run_in_threadpool(user.flash, str(exc), "error")
        delivered = False
    status = "delivered" if delivered else "failed"
    sandbox_phone.set_status(client, number.phone_number_id, person.wa_id, bubble.id, status)
    return back


async def _send_elsewhere(
    request: Request, user: ConsoleUser, number: SandboxNumber, person: Persona, text: str,
    upload: tuple[bytes, str, str] | None, back: Response,
) -> Response:  # fmt: skip
    """A Twilio or Instagram customer's text, through that provider's signed webhook."""
    if upload is not None or not text:
        await run_in_threadpool(
            user.flash, "In the sandbox, files go on WhatsApp Cloud chats only.", "error"
        )
        return back
    client, chat = redis_of(request), _chat_of(number, person)
    message_id = new_sid("SM") if person.channel == ChannelType.TWILIO_WHATSAPP else new_mid()
    sandbox_phone.add_bubble(
        client, chat, person.wa_id, Bubble(id=message_id, mine=True, kind="text", text=text)
    )
    delivered = await send_as(request.app, person, text, message_id)
    status = "delivered" if delivered else "failed"
    sandbox_phone.set_status(client, chat, person.wa_id, message_id, status)
    return back


@router.get("/media/{media_id}")
def media(
    request: Request, media_id: str, db: SessionDep, user: ConsoleUserDep,
    merchant_id: int | None = None,
) -> Response:  # fmt: skip
    """A photo or file shown in this sandbox's chats (never another merchant's)."""
    number = _setup(db, user, merchant_id)
    client = redis_of(request)
    store = RedisMedia(client)
    found, data = store.get(media_id), store.read(media_id)
    shown_here = sandbox_phone.media_number(client, media_id) == number.phone_number_id
    if found is None or data is None or not shown_here:
        return Response("no such media", status_code=404, media_type="text/plain")
    return file_response(data, found.mime_type, found.filename or media_id)
