"""The outbox: every outbound message is a row before it is a Graph API call.

A message is written `pending`, marked `sending` in its own commit, then sent while the
conversation row is held FOR KEY SHARE, so a takeover (which locks the row FOR UPDATE)
either happens before the send, and the AI message is dropped, or waits until it is done.
A send whose outcome is unknown is reconciled from status webhooks, never blindly resent.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from channels.base import OutboundMessage, OutboundText, Recipient
from channels.errors import DeliveryOutcomeUnknown, WhatsAppError
from channels.text import split_message
from channels.webhook import StatusUpdate
from observability.logs import get_logger
from observability.metrics import SENDS
from persistence.db import session_scope
from persistence.models import (
    Author,
    Conversation,
    ConversationMode,
    Customer,
    DeliveryStatus,
    Direction,
    Message,
    PhoneNumber,
)
from services import failpoints
from services.media import send as media_send
from services.media.send import MediaRef
from services.merchants.clients import client_for
from services.templates.templates import stored_template

log = get_logger(__name__)

CALLBACK_PREFIX = "sb:"

_RANK = {
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.UNKNOWN: 1,
    DeliveryStatus.ACCEPTED: 2,
    DeliveryStatus.SENT: 3,
    DeliveryStatus.DELIVERED: 4,
    DeliveryStatus.READ: 5,
}
_WEBHOOK_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


def enqueue_reply(
    session: Session, *, conversation_id: int, turn_id: int, text: str, author: Author = Author.AI
) -> list[int]:
    """Write a reply's parts to the outbox once per turn; return the ids still to send."""
    ids: list[int] = []
    for seq, part in enumerate(split_message(text)):
        session.execute(
            insert(Message)
            .values(
                conversation_id=conversation_id,
                direction=Direction.OUTBOUND,
                author=author,
                type="text",
                text=part,
                status=DeliveryStatus.PENDING,
                turn_id=turn_id,
                seq=seq,
                send_attempts=0,
            )
            .on_conflict_do_nothing(constraint="uq_messages_turn_reply_part")
        )
    rows = session.execute(
        select(Message.id, Message.status)
        .where(Message.turn_id == turn_id, Message.direction == Direction.OUTBOUND)
        .order_by(Message.seq)
    ).all()
    ids = [row.id for row in rows if row.status == DeliveryStatus.PENDING]
    return ids


def enqueue_message(session: Session, *, conversation_id: int, text: str, author: Author) -> int:
    """An outbound message outside a turn (follow-ups, notices): one row, sent after commit."""
    message = Message(
        conversation_id=conversation_id,
        direction=Direction.OUTBOUND,
        author=author,
        type="text",
        text=text[:4096],
        status=DeliveryStatus.PENDING,
        send_attempts=0,
    )
    session.add(message)
    session.flush()
    return message.id


def send_pending(message_id: int, *, only_in_ai_mode: bool) -> DeliveryStatus:
    """Send one outbox message. Each step commits on its own; see the module docstring."""
    with session_scope() as session:
        claimed = session.execute(
            update(Message)
            .where(Message.id == message_id, Message.status == DeliveryStatus.PENDING)
            .values(
                status=DeliveryStatus.SENDING,
                status_at=datetime.now(UTC),
                send_attempts=Message.send_attempts + 1,
            )
            .returning(Message.id)
        ).scalar()
    if claimed is None:
        return _status_of(message_id)
    return _send_claimed(message_id, only_in_ai_mode=only_in_ai_mode)


def _send_claimed(message_id: int, *, only_in_ai_mode: bool) -> DeliveryStatus:
    try:
        media = media_send.resolve_media(message_id)
    except media_send.MediaUnavailable as exc:
        return _fail_unsendable(message_id, exc.message)
    status, rejected = _send_locked(message_id, media, only_in_ai_mode, retry_media=True)
    if not rejected:
        return status
    # WhatsApp no longer knows the cached media id: upload the file again, send once more.
    try:
        media = media_send.resolve_media(message_id, refresh=True)
    except media_send.MediaUnavailable as exc:
        return _fail_unsendable(message_id, exc.message)
    status, _ = _send_locked(message_id, media, only_in_ai_mode, retry_media=False)
    return status


def _send_locked(
    message_id: int, media: MediaRef | None, only_in_ai_mode: bool, *, retry_media: bool
) -> tuple[DeliveryStatus, bool]:
    """One send under the conversation's FOR KEY SHARE lock; True when its media id was
    refused and the caller may upload again (the row then stays `sending`)."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        conversation, customer, phone = _parties_locked(session, message.conversation_id)
        if only_in_ai_mode and conversation.mode != ConversationMode.AI:
            message.status = DeliveryStatus.DROPPED
            message.error_detail = "an operator took over before it was sent"
            SENDS.labels("dropped", "").inc()
            log.info("whatsapp.send.dropped", message_id=message_id)
            return message.status, False
        recipient = Recipient(wa_id=customer.wa_id, user_id=customer.user_id)
        outbound = outbound_message(message, media)
        try:
            failpoints.hit("delivery.before_send")  # claimed (`sending`), never sent
            wamid = client_for(phone).send_message(
                recipient, outbound, callback_data=f"{CALLBACK_PREFIX}{message.id}"
            )
        except DeliveryOutcomeUnknown as exc:
            SENDS.labels("unknown", str(exc.code or "")).inc()
            _record_error(message, DeliveryStatus.UNKNOWN, exc)
            log.warning("whatsapp.send.unknown", message_id=message_id)
            return message.status, False
        except WhatsAppError as exc:
            if retry_media and media and media.media_id and media_send.media_id_rejected(exc):
                log.info("whatsapp.send.media_rejected", message_id=message_id, code=exc.code)
                return message.status, True
            SENDS.labels("failed", str(exc.code or "")).inc()
            _record_error(message, DeliveryStatus.FAILED, exc)
            log.warning("whatsapp.send.failed", message_id=message_id, code=exc.code)
            return message.status, False
        failpoints.hit("delivery.after_send")  # sent at Meta, not yet recorded here
        SENDS.labels("accepted", "").inc()
        message.wamid = wamid
        message.status = DeliveryStatus.ACCEPTED
        message.status_at = datetime.now(UTC)
        log.info("whatsapp.send.accepted", message_id=message_id)
        return message.status, False


def outbound_message(message: Message, media: MediaRef | None) -> OutboundMessage:
    """What a row sends: a template (kept in raw["template"]), a library file, or text."""
    if message.type == "template":
        return stored_template(message.raw or {})
    if media is None:
        return OutboundText(message.text or "")
    return media.outbound(message.text)


def _fail_unsendable(message_id: int, reason: str) -> DeliveryStatus:
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        message.status = DeliveryStatus.FAILED
        message.status_at = datetime.now(UTC)
        message.error_detail = reason[:2000]
    log.warning("whatsapp.send.failed", message_id=message_id, reason="media")
    return DeliveryStatus.FAILED


def _parties_locked(
    session: Session, conversation_id: int
) -> tuple[Conversation, Customer, PhoneNumber]:
    stmt = (
        select(Conversation, Customer, PhoneNumber)
        .join(Customer, Customer.id == Conversation.customer_id)
        .join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id)
        .where(Conversation.id == conversation_id)
        .with_for_update(key_share=True, of=Conversation)
    )
    conversation, customer, phone = session.execute(stmt).one()
    return conversation, customer, phone


def _record_error(message: Message, status: DeliveryStatus, exc: WhatsAppError) -> None:
    message.status = status
    message.status_at = datetime.now(UTC)
    message.error_code = exc.code
    message.error_detail = str(exc)[:2000]


def _status_of(message_id: int) -> DeliveryStatus:
    with session_scope() as session:
        status = session.scalar(select(Message.status).where(Message.id == message_id))
        return DeliveryStatus(status) if status else DeliveryStatus.FAILED


def apply_status(session: Session, status: StatusUpdate) -> bool:
    """Move an outbound message forward (never back); match by wamid or our callback id."""
    new = _WEBHOOK_STATUSES.get(status.status)
    if new is None:
        return False
    target = _match_outbound(session, status)
    if target is None:
        log.info("whatsapp.status.unmatched", status=status.status)
        return False
    allowed = [s for s, rank in _RANK.items() if rank < _RANK.get(new, 4)]
    values: dict[str, object] = {
        "status": new,
        "status_at": status.timestamp,
        "wamid": status.wamid,
    }
    if new == DeliveryStatus.FAILED:
        first = status.errors[0] if status.errors else None
        values["error_code"] = first.code if first else None
        values["error_detail"] = _error_text(status)
    moved = session.execute(
        update(Message)
        .where(Message.id == target, Message.status.in_(allowed))
        .values(**values)
        .returning(Message.id)
    ).scalar()
    if moved is None:
        _learn_wamid(session, target, status.wamid)
    return moved is not None


def _match_outbound(session: Session, status: StatusUpdate) -> int | None:
    found = session.scalar(
        select(Message.id).where(
            Message.wamid == status.wamid, Message.direction == Direction.OUTBOUND
        )
    )
    if found is not None:
        return found
    data = status.callback_data or ""
    if data.startswith(CALLBACK_PREFIX) and data[len(CALLBACK_PREFIX) :].isdigit():
        return session.scalar(
            select(Message.id).where(
                Message.id == int(data[len(CALLBACK_PREFIX) :]),
                Message.direction == Direction.OUTBOUND,
            )
        )
    return None


def _learn_wamid(session: Session, message_id: int, wamid: str) -> None:
    session.execute(
        update(Message).where(Message.id == message_id, Message.wamid.is_(None)).values(wamid=wamid)
    )


def _error_text(status: StatusUpdate) -> str | None:
    parts = [
        " ".join(str(x) for x in (e.code, e.title, e.details or e.message) if x)
        for e in status.errors
    ]
    return "; ".join(parts)[:2000] or None


def unresolved_sends(session: Session, *, older_than: datetime) -> list[int]:
    """Outbox rows stuck before a known outcome: pending (worker died before sending),
    sending/unknown (no status webhook arrived)."""
    stmt = select(Message.id).where(
        Message.direction == Direction.OUTBOUND,
        Message.status.in_(
            [DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN]
        ),
        Message.created_at < older_than,
        case((Message.status_at.is_(None), Message.created_at), else_=Message.status_at)
        < older_than,
    )
    return list(session.scalars(stmt.order_by(Message.id).limit(500)))


def reconcile(message_id: int, *, max_attempts: int = 2) -> DeliveryStatus:
    """No status webhook came for a send: the Graph API never got it. Resend, within limits."""
    with session_scope() as session:
        message = session.get(Message, message_id, with_for_update=True)
        if message is None or message.status not in (
            DeliveryStatus.PENDING,
            DeliveryStatus.SENDING,
            DeliveryStatus.UNKNOWN,
        ):
            return DeliveryStatus(message.status) if message else DeliveryStatus.FAILED
        if message.send_attempts >= max_attempts:
            message.status = DeliveryStatus.FAILED
            message.error_detail = (
                "no delivery status from WhatsApp after retrying; not resent again"
            )
            return message.status
        message.status = DeliveryStatus.PENDING
        only_ai = message.author == Author.AI
    return send_pending(message_id, only_in_ai_mode=only_ai)
