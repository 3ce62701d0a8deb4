"""Messages that wait for the customer.

WhatsApp delivers free-form messages only within 24 hours of the customer's last message.
One that cannot go out (an operator's text or file, an AI reply refused with 131047 at once
or in a later failed status, such as a staff answer the AI relays) is kept in the outbox as
`parked`, in order, and the customer gets one re-engagement template. When they write
again, the ingest of their message releases every parked message at once (`parked` ->
`pending`, a single UPDATE, so duplicated webhooks and concurrent turns release nothing
twice); services.parking.flows sends them in order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Exists, SQLColumnExpression, Table, bindparam, exists, select, update
from sqlalchemy.orm import Session

from channels.errors import OutsideServiceWindow, codes_of
from observability.logs import get_logger
from persistence import jobs
from persistence.constants import constant, equals, one_of
from persistence.models import (
    Author,
    ChannelType,
    Conversation,
    DeliveryStatus,
    Direction,
    Merchant,
    Message,
)
from services.conversations.conversation import conversation_parties
from services.templates.templates import TemplateRole, enqueue_template

log = get_logger(__name__)

PARKED_AT = "parked_at"  # raw key: the message waited for the window (kept after release)
SEND_RELEASED = "switchboard.delivery.send_released"
_REENGAGEMENT = TemplateRole.CUSTOMER_REENGAGEMENT.value
_NOT_OUT = (DeliveryStatus.FAILED, DeliveryStatus.DROPPED)


def park(message: Message) -> None:
    """Hold an outbox message until the customer writes."""
    now = datetime.now(UTC)
    message.status = DeliveryStatus.PARKED
    message.status_at = now
    message.raw = {**(message.raw or {}), PARKED_AT: now.isoformat()}


def refused_outside_window(
    session: Session, *, turn_id: int | None = None, wamid: str | None = None
) -> list[Message]:
    """Free-form messages WhatsApp refused because the window is closed: a turn's reply
    parts, or the message a failed status names."""
    stmt = select(Message).where(
        Message.direction == Direction.OUTBOUND,
        Message.type != "template",
        Message.status == DeliveryStatus.FAILED,
        Message.error_code.in_(codes_of(OutsideServiceWindow)),
    )
    if turn_id is not None:
        stmt = stmt.where(Message.turn_id == turn_id)
    if wamid is not None:
        stmt = stmt.where(Message.wamid == wamid)
    return list(session.scalars(stmt.order_by(Message.id)))


def wrote_since(conversation: Conversation, refused: list[Message]) -> bool:
    """Whether the customer wrote after WhatsApp refused these (their ingest found
    nothing parked yet)."""
    first = min((m.status_at for m in refused if m.status_at), default=None)
    last = conversation.last_inbound_at
    return first is not None and last is not None and last > first


def park_refused(session: Session, message_ids: list[int]) -> list[Message]:
    """Messages WhatsApp refused because the window is closed (131047): held, in order.
    Those no longer failed (a concurrent park, a later status) are left alone."""
    refused = list(
        session.scalars(
            select(Message)
            .where(Message.id.in_(message_ids), Message.status == DeliveryStatus.FAILED)
            .order_by(Message.id)
        )
    )
    for message in refused:
        park(message)
        log.info("whatsapp.send.parked", message_id=message.id, code=message.error_code)
    return refused


def reengage(session: Session, conversation: Conversation) -> int | None:
    """Queue the re-engagement template, in the customer's language, unless one went out
    since they last wrote; its id, to send after commit. Call with the conversation row
    locked FOR UPDATE, so that concurrent parkers queue one between them."""
    if _reengaged_since_last_inbound(session, conversation):
        return None
    _, customer, phone = conversation_parties(session, conversation.id)
    if phone.type == ChannelType.INSTAGRAM:
        return None  # no templates: what is parked waits for the customer's next message
    merchant = session.get(Merchant, phone.merchant_id)
    assert merchant is not None
    return enqueue_template(
        session, conversation_id=conversation.id, role=TemplateRole.CUSTOMER_REENGAGEMENT,
        language=customer.language or merchant.default_language,
        values={"merchant_name": merchant.name}, merchant_id=merchant.id,
    )  # fmt: skip


def _reengaged_since_last_inbound(session: Session, conversation: Conversation) -> bool:
    since = conversation.last_inbound_at or datetime.min.replace(tzinfo=UTC)
    return bool(
        session.scalar(
            select(
                exists().where(
                    Message.conversation_id == conversation.id,
                    Message.direction == Direction.OUTBOUND,
                    Message.type == "template",
                    Message.raw["role"].astext == _REENGAGEMENT,
                    Message.status.not_in(_NOT_OUT),
                    Message.created_at > since,
                )
            )
        )
    )


def release(session: Session, conversation_id: int) -> list[int]:
    """The customer wrote: their parked messages become pending, once, and are sent after
    commit (services.parking.flows.send_released). Ingest runs it for every message: one
    statement built once; the session's own copies of released rows are expired after it."""
    now = datetime.now(UTC)
    ids = sorted(session.scalars(_RELEASE, {"conversation": conversation_id, "now": now}))
    if ids:
        _expire(session, ids)
        jobs.enqueue(session, SEND_RELEASED, conversation_id)
        log.info("whatsapp.parked.released", conversation_id=conversation_id, count=len(ids))
    return ids


_MESSAGES = cast(Table, Message.__table__)
_RELEASE = (
    update(_MESSAGES)
    .where(
        _MESSAGES.c.conversation_id == bindparam("conversation"),
        _MESSAGES.c.status == DeliveryStatus.PARKED,
    )
    .values(
        status=DeliveryStatus.PENDING,
        status_at=bindparam("now", type_=_MESSAGES.c.status_at.type),
        error_code=None,  # the refusal that parked it is over; raw keeps when
        error_detail=None,
    )
    .returning(_MESSAGES.c.id)
)


def _expire(session: Session, message_ids: list[int]) -> None:
    released = set(message_ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Message) and obj.id in released:
            session.expire(obj)


def release_in_progress(session: Session, conversation_id: int) -> bool:
    """Whether released messages wait to be sent or are being sent (a turn then waits for
    send_released, so its reply never overtakes them)."""
    return bool(session.scalar(select(releasing(conversation_id))))


def releasing(conversation_id: int | SQLColumnExpression[int]) -> Exists:
    """release_in_progress as a clause, for a statement that reads it with other rows."""
    in_flight = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
    return exists().where(  # literals: ix_messages_parked_in_flight in any plan
        Message.conversation_id == conversation_id,
        one_of(Message.status, in_flight),
        Message.raw.has_key(constant(PARKED_AT)),
    )


def released_unsent(session: Session, conversation_id: int) -> list[tuple[int, Author]]:
    """Released messages still to send, in the order they were parked."""
    rows = session.execute(
        select(Message.id, Message.author)
        .where(
            Message.conversation_id == conversation_id,
            equals(Message.status, DeliveryStatus.PENDING),
            Message.raw.has_key(constant(PARKED_AT)),
        )
        .order_by(Message.id)
    ).all()
    return [(row.id, Author(row.author)) for row in rows]
