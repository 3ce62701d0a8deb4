"""One conversation: messages, delivery states and audit trail, live; take over, send and
hand back through the same services as the operator API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.console.auth import ConsoleUser, ConsoleUserDep, FormUserDep
from api.console.templating import render
from api.deps import SessionDep
from api.files import file_response
from persistence.models import DeliveryStatus, Message, Priority
from services.commerce.cart import cart_of_conversation
from services.commerce.checkout import operator_checkout
from services.commerce.order_book import orders_of_customer
from services.conversations.view import (
    ConversationView,
    conversation_view,
    message_file,
    message_of,
)
from services.desk import notes, presence
from services.errors import DomainError, NotFound
from services.handoff import handoff
from services.handoff.availability import AiAvailability, ai_availability
from services.handoff.flows import send_operator_message
from services.media import library as media_library
from services.merchants.operator import list_operators
from services.templates.chosen import TemplateChoice, template_options

router = APIRouter(prefix="/console/conversations", include_in_schema=False)


def _page_url(conversation_id: int, anchor: str = "") -> str:
    return f"/console/conversations/{conversation_id}{anchor}"


def _state_key(view: ConversationView, ai: AiAvailability | None) -> str:
    """Everything the parts of the page that are not polled show (the composer, its
    prompt, the handback form and its warning): when it changes, the page reloads."""
    c = view.conversation
    parts = (c.mode, c.needs_human, c.assigned_operator_id, c.assigned_to, view.window.open)
    return "|".join(map(str, (*parts, ai.available if ai else "")))


def _context(db: Session, conversation_id: int, user: ConsoleUser) -> dict[str, Any]:
    view = conversation_view(db, conversation_id)
    c = view.conversation
    mine = (
        c.mode == "operator"
        and c.assigned_operator_id == user.principal.operator_id
        and c.assigned_to == user.principal.name
    )
    ai = ai_availability(db) if mine else None  # only the handback form depends on it
    presence.seen(db, user.principal.operator_id)  # the page polls: the operator is here
    return {
        "user": user, "v": view, "mine": mine, "ai": ai, "state_key": _state_key(view, ai),
        "can_take_over": c.mode == "ai" or handoff.held_by_business_app(c),
        "notes": notes.notes_of(db, conversation_id),
    }  # fmt: skip


@router.get("/{conversation_id}")
def conversation_page(
    request: Request, conversation_id: int, db: SessionDep, user: ConsoleUserDep
) -> Response:
    try:
        context = _context(db, conversation_id, user)
    except NotFound as exc:
        return render(
            request, "not_found.html", {"user": user, "detail": exc.message}, status_code=404
        )
    merchant_id = context["v"].merchant.id
    context["assets"] = media_library.list_assets(db, merchant_id)
    context["templates"] = template_options(db, merchant_id)
    context["operators"] = [o for o in list_operators(db) if o.revoked_at is None]
    context["priorities"] = list(Priority)
    # orders seen in Shopify webhooks or shown in a lookup (services/commerce/order_book.py)
    context["orders"] = orders_of_customer(db, merchant_id, context["v"].customer.id)
    context["cart"] = cart_of_conversation(db, conversation_id)  # None: no store connected
    return render(request, "conversation.html", context)


@router.get("/{conversation_id}/messages")
def live_messages(
    request: Request, conversation_id: int, db: SessionDep, user: ConsoleUserDep
) -> Response:
    return render(request, "_messages.html", _context(db, conversation_id, user))


@router.get("/{conversation_id}/state")
def live_state(
    request: Request, conversation_id: int, db: SessionDep, user: ConsoleUserDep
) -> Response:
    return render(request, "_conversation_state.html", _context(db, conversation_id, user))


@router.get("/{conversation_id}/messages/{message_id}/media")
def message_media(
    conversation_id: int, message_id: int, db: SessionDep, user: ConsoleUserDep
) -> Response:
    message = message_of(db, conversation_id, message_id)
    found = message_file(db, message) if message else None
    if found is None:
        return Response("no file", status_code=404, media_type="text/plain")
    return file_response(*found)


def _act(db: Session, user: ConsoleUser, action: Any, done: str) -> bool:
    try:
        action()
    except DomainError as exc:
        db.rollback()
        user.flash(exc.message, "error")
        return False
    user.flash(done, "ok")
    return True


@router.post("/{conversation_id}/takeover")
def takeover(conversation_id: int, db: SessionDep, user: FormUserDep) -> Response:
    ref = handoff.ConversationRef(conversation_id, merchant_id=user.principal.merchant_id)
    _act(
        db, user, lambda: handoff.takeover(db, ref, user.principal),
        "You have the conversation: the AI stays silent until you hand it back.",
    )  # fmt: skip
    return RedirectResponse(_page_url(conversation_id, "#composer"), status_code=303)


@router.post("/{conversation_id}/send")
def send(
    conversation_id: int,
    db: SessionDep,
    user: FormUserDep,
    text: Annotated[str, Form(max_length=4096)] = "",
    media_key: Annotated[str, Form(max_length=100)] = "",
    options: Annotated[str, Form(max_length=2000)] = "",
    template: Annotated[str, Form(max_length=600)] = "",
    parameters: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """Text, a library file (with `text` as its caption), or an approved template chosen as
    "name|language" with its parameters one per line."""
    text, media_key = text.strip(), media_key.strip()
    choices = [line.strip() for line in options.splitlines() if line.strip()] or None
    composer = RedirectResponse(_page_url(conversation_id, "#composer"), status_code=303)
    choice = _template_choice(template, parameters)
    problem = _send_problem(text, media_key, template, choice)
    if problem:
        user.flash(problem, "error")
        return composer
    ref = handoff.ConversationRef(conversation_id, merchant_id=user.principal.merchant_id)
    try:
        message_id, status = send_operator_message(
            ref, user.principal, text or None, media_key=media_key or None,
            options=None if choice else choices, template=choice,
        )  # fmt: skip
    except DomainError as exc:
        user.flash(exc.message, "error")
        return composer
    if status == DeliveryStatus.FAILED:
        message = db.get(Message, message_id)
        detail = message.error_detail if message else None
        user.flash(f"WhatsApp refused the message: {detail}", "error")
    elif status == DeliveryStatus.PARKED:
        user.flash(PARKED_NOTICE, "ok")
    return composer


PARKED_NOTICE = (
    "The customer's 24-hour window is closed: your message is parked and goes out as soon "
    "as they answer the re-engagement template."
)


def _template_choice(template: str, parameters: str) -> TemplateChoice | None:
    name, _, language = template.strip().partition("|")
    if not name:
        return None
    values = tuple(line.strip() for line in parameters.splitlines() if line.strip())
    return TemplateChoice(name, language, values)


def _send_problem(
    text: str, media_key: str, template: str, choice: TemplateChoice | None
) -> str | None:
    if template.strip() and (choice is None or not choice.language):
        return "Choose a template from the list."
    if choice is not None:
        return None
    if not text and not media_key:
        return "Write a message or choose a file to send."
    if media_key and len(text) > 1024:
        return "A caption may be at most 1024 characters."
    return None


@router.post("/{conversation_id}/checkout-link")
def checkout_link(conversation_id: int, db: SessionDep, user: FormUserDep) -> Response:
    """The cart as a checkout link button, sent as the operator (services/commerce/checkout)."""
    ref = handoff.ConversationRef(conversation_id, merchant_id=user.principal.merchant_id)
    try:
        sent = operator_checkout(ref, user.principal)
    except DomainError as exc:
        user.flash(exc.message, "error")
    else:
        parked = sent.status == DeliveryStatus.PARKED
        user.flash(f"Checkout link {'parked until the customer writes' if parked else 'sent'}: "
                   f"{sent.url}", "ok")  # fmt: skip
    return RedirectResponse(_page_url(conversation_id, "#composer"), status_code=303)


@router.post("/{conversation_id}/handback")
def handback(
    conversation_id: int,
    db: SessionDep,
    user: FormUserDep,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    ref = handoff.ConversationRef(conversation_id, merchant_id=user.principal.merchant_id)
    try:
        conversation, _ = handoff.handback(db, ref, user.principal, note=note.strip() or None)
    except DomainError as exc:
        db.rollback()
        user.flash(exc.message, "error")
    else:
        if conversation.needs_human:  # no AI could answer: see handoff.handback
            user.flash(f"{conversation.needs_human_reason}. Nothing was sent.", "error")
        else:
            user.flash("Handed back to the AI.", "ok")
    return RedirectResponse(_page_url(conversation_id), status_code=303)
