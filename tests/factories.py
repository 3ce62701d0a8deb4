"""Small factories for rows the tests need: keyword-only, sensible defaults, one job each.

Each takes the session it writes with and flushes, so the caller owns the transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from persistence.models import (
    Author,
    Conversation,
    Customer,
    DeliveryStatus,
    Direction,
    Document,
    DocumentStatus,
    Message,
    MessageTemplate,
)
from services.conversations.conversation import upsert_conversation, upsert_customer
from services.knowledge import knowledge
from services.templates.defaults import SHIPPED, TemplateRole

CUSTOMER_WA_ID = "15551234567"


def make_customer(
    session: Session,
    *,
    merchant_id: int,
    wa_id: str | None = CUSTOMER_WA_ID,
    user_id: str | None = None,
    profile_name: str | None = None,
) -> Customer:
    return upsert_customer(
        session, merchant_id=merchant_id, wa_id=wa_id, user_id=user_id, profile_name=profile_name
    )


def make_conversation(
    session: Session,
    *,
    merchant_id: int,
    phone_id: int,
    wa_id: str | None = CUSTOMER_WA_ID,
    profile_name: str | None = None,
) -> Conversation:
    """A customer and their conversation with the business number `phone_id`."""
    customer = make_customer(
        session, merchant_id=merchant_id, wa_id=wa_id, profile_name=profile_name
    )
    return upsert_conversation(session, phone_id=phone_id, customer_id=customer.id)


def make_message(
    session: Session,
    *,
    conversation_id: int,
    direction: Direction = Direction.OUTBOUND,
    author: Author = Author.AI,
    text: str = "Your order ships today.",
    status: DeliveryStatus = DeliveryStatus.ACCEPTED,
    **values: Any,
) -> Message:
    """A message row as the ingest or the outbox would have left it."""
    message = Message(
        conversation_id=conversation_id,
        direction=direction,
        author=author,
        type=values.pop("type", "text"),
        text=text,
        status=status,
        send_attempts=values.pop("send_attempts", 1),
        **values,
    )
    session.add(message)
    session.flush()
    return message


def make_document(
    session: Session,
    *,
    merchant_id: int,
    title: str = "Opening hours",
    content: str = "Monday to Friday, 9:00 to 18:00.",
    category: str = knowledge.GENERAL,
    status: DocumentStatus = DocumentStatus.PUBLISHED,
    review_note: str | None = None,
) -> Document:
    return knowledge.create_document(
        session,
        merchant_id=merchant_id,
        title=title,
        content=content,
        category=category,
        status=status,
        review_note=review_note,
    )


def make_template(
    session: Session,
    *,
    merchant_id: int,
    role: TemplateRole,
    language: str = "en",
    status: str = "APPROVED",
    **values: Any,
) -> MessageTemplate:
    """A merchant's template row for `role`, the shipped English text unless given."""
    shipped = SHIPPED[(role, "en")]
    template = MessageTemplate(
        merchant_id=merchant_id, role=role.value, language=language, status=status,
        name=values.pop("name", shipped.name), body=values.pop("body", shipped.body),
        parameters=values.pop("parameters", list(shipped.parameters)), **values,
    )  # fmt: skip
    session.add(template)
    session.flush()
    return template
