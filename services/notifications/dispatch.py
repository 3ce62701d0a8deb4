"""Sending a notification to the merchant's staff on WhatsApp.

Each target staff member gets the request template in their own conversation with the
business number (created if needed) and an instruction note there for their agent: the
prefixed id, what was asked, and the JSON answer format. Safe to run twice: recipients
are unique per notification, and their request message is written once.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from observability.logs import get_logger
from persistence.models import (
    ChannelType,
    DeliveryStatus,
    Merchant,
    MerchantUser,
    Message,
    Notification,
    NotificationRecipient,
    PhoneNumber,
)
from services import clock
from services.conversations.conversation import (
    conversation_parties,
    upsert_conversation,
    upsert_customer,
)
from services.handoff.handoff import add_note
from services.merchants.merchant import phone_numbers_of
from services.notifications.kinds import NotificationKind, kind_of
from services.notifications.notifications import ref
from services.notifications.routing import ADMIN, Route
from services.templates import templates

log = get_logger(__name__)


def staff_phone(session: Session, customer_phone: PhoneNumber) -> PhoneNumber | None:
    """Staff answer on WhatsApp: the customer's number when it is a WhatsApp one, else
    (an Instagram customer) the merchant's first WhatsApp number."""
    if customer_phone.type != ChannelType.INSTAGRAM:
        return customer_phone
    accounts = phone_numbers_of(session, customer_phone.merchant_id)
    return next((a for a in accounts if a.type != ChannelType.INSTAGRAM), None)


def dispatch_locked(session: Session, notification: Notification, route: Route | None) -> None:
    kind = kind_of(notification.type)
    if route is not None:
        notification.target_user_type = route.user_type
        notification.context = {**notification.context, "support_request_type": route.request_type}
    staff = staff_for(session, notification.merchant_id, notification.target_user_type or ADMIN)
    conversation, _, customer_phone = conversation_parties(session, notification.conversation_id)
    merchant = session.get(Merchant, notification.merchant_id)
    assert merchant is not None
    phone = staff_phone(session, customer_phone)
    for user in staff:
        if phone is not None:
            ask(session, notification, kind, user, phone_id=phone.id, merchant=merchant)
    if phone is None:
        notification.error = (
            "no WhatsApp number to reach the staff on: connect one, or answer it from the "
            "console or POST /api/v1/notifications/{id}/answer"
        )
        log.warning("notification.no_whatsapp", notification_id=notification.id)
    elif not staff:
        notification.error = (
            "no staff to notify: add merchant users (type admin, or the routed type) "
            "or answer it from the console or POST /api/v1/notifications/{id}/answer"
        )
        log.warning("notification.no_staff", notification_id=notification.id)
    notification.dispatched_at = clock.now()  # the SLA counts from here (FROZEN_TIME aware)
    log.info(
        "notification.dispatched",
        notification_id=notification.id,
        recipients=len(staff),
        type=notification.target_user_type,
    )


def staff_for(session: Session, merchant_id: int, user_type: str) -> list[MerchantUser]:
    """The merchant's users of that type; admins when nobody has it."""
    for wanted in dict.fromkeys([user_type.lower(), ADMIN]):
        users = list(
            session.scalars(
                select(MerchantUser)
                .where(MerchantUser.merchant_id == merchant_id, MerchantUser.type == wanted)
                .order_by(MerchantUser.id)
            )
        )
        if users:
            return users
    return []


def ask(
    session: Session,
    notification: Notification,
    kind: NotificationKind,
    user: MerchantUser,
    *,
    phone_id: int,
    merchant: Merchant,
) -> None:
    staff = upsert_customer(
        session, merchant_id=merchant.id, wa_id=user.wa_id, user_id=user.user_id,
        profile_name=user.name,
    )  # fmt: skip
    conversation = upsert_conversation(session, phone_id=phone_id, customer_id=staff.id)
    session.execute(
        insert(NotificationRecipient)
        .values(
            notification_id=notification.id,
            merchant_user_id=user.id,
            conversation_id=conversation.id,
        )
        .on_conflict_do_nothing(index_elements=["notification_id", "merchant_user_id"])
    )
    recipient = session.scalar(
        select(NotificationRecipient).where(
            NotificationRecipient.notification_id == notification.id,
            NotificationRecipient.merchant_user_id == user.id,
        )
    )
    assert recipient is not None
    if recipient.request_message_id is not None:
        return
    recipient.request_message_id = templates.enqueue_template(
        session,
        conversation_id=conversation.id,
        role=kind.request_template,
        language=merchant.default_language,
        values=template_values(notification),
        merchant_id=merchant.id,
    )
    add_note(session, conversation.id, instruction(notification, kind))


def template_values(notification: Notification) -> dict[str, str]:
    data = notification.context
    customer = " ".join(str(x) for x in (data.get("customer_name"), data.get("lead_phone")) if x)
    # the staff read the customer's words and, when they wrote in another language, ours
    translated = f" (translated: {data['translation']})" if data.get("translation") else ""
    return {
        "notification_id": ref(notification.id),
        "customer": customer or "a customer",
        "question": str(data.get("question", "")) + translated,
        "support_request_type": str(data.get("support_request_type") or "Support request"),
        "support_request_reason": str(data.get("support_request_reason", "")) + translated,
    }


def instruction(notification: Notification, kind: NotificationKind) -> str:
    """What the staff member's agent needs to turn their reply into an answer."""
    schema = json.dumps(_compact(notification.answer_schema), ensure_ascii=False)
    example = json.dumps({name: "..." for name in kind.answered_fields})
    return (  # what the customer asked stays out: notes are the system prompt (graph.prompts)
        f"New {kind.title} for this staff member: {ref(notification.id)}, listed with what "
        f"was asked in the [Context] message. "
        f"They were sent it as a WhatsApp template and may reply to it. When their message "
        f'answers it, call answer_notification with notification_id "{ref(notification.id)}" '
        f"and answer_json, a JSON object matching this schema: {schema} "
        f"(for example {example})."
    )


def _compact(schema: dict) -> dict:
    """The schema without titles: shorter for the model, same meaning."""
    properties = {
        name: {k: v for k, v in spec.items() if k != "title"}
        for name, spec in schema.get("properties", {}).items()
    }
    return {"type": "object", "properties": properties, "required": schema.get("required", [])}


def unsent_requests(session: Session, notification_id: int) -> list[int]:
    stmt = (
        select(Message.id)
        .join(NotificationRecipient, NotificationRecipient.request_message_id == Message.id)
        .where(
            NotificationRecipient.notification_id == notification_id,
            Message.status == DeliveryStatus.PENDING,
        )
        .order_by(Message.id)
    )
    return list(session.scalars(stmt))


def undispatched(session: Session, *, older_than: datetime) -> list[int]:
    """For the sweeper: notifications whose dispatch task was lost."""
    stmt = select(Notification.id).where(
        Notification.dispatched_at.is_(None), Notification.created_at < older_than
    )
    return list(session.scalars(stmt.order_by(Notification.id).limit(200)))
