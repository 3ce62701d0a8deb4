"""Durable ingest of WhatsApp webhook content: store once, report what is new."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import String, Table, and_, bindparam, exists, func, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from channels.coexistence import Coexistence, coexistence_of
from channels.webhook import (
    AccountEvent,
    InboundMessage,
    Notification,
    OtherChange,
    TemplateStatusUpdate,
    account_event_of,
    template_status_of,
)
from observability.logs import get_logger
from observability.metrics import WEBHOOK_MESSAGES
from persistence import jobs
from persistence.models import (
    Author,
    ChannelType,
    Conversation,
    ConversationMode,
    Customer,
    DeliveryStatus,
    Direction,
    MediaStatus,
    Message,
    PhoneNumber,
    RejectedWebhook,
    TurnResult,
)
from services.commerce.opt_out import keyword_of, take_keyword
from services.conversations.conversation import (
    customer_matches,
    find_parties,
    learns_nothing,
    stored_username,
    upsert_conversation,
    upsert_customer,
)
from services.csat.answers import may_answer, take_answer
from services.desk import lifecycle
from services.events import events
from services.ingest.aside import set_aside
from services.ingest.coexistence import record_coexistence
from services.merchants.quality import record_account_event
from services.parking import parking
from services.templates import templates
from settings import get_settings

log = get_logger(__name__)

# Types that never start a turn by themselves; they join the next turn as context.
QUIET_TYPES = frozenset({"reaction"})


@dataclass
class IngestResult:
    stored: list[int] = field(default_factory=list)  # new message ids
    duplicates: int = 0
    rejected: int = 0
    # conversations that received a message which should start (or extend) a burst
    to_buffer: set[int] = field(default_factory=set)
    # new messages whose media must be fetched from WhatsApp (media_status 'pending')
    media: list[int] = field(default_factory=list)


def record_notification(
    session: Session, notification: Notification, *, channel: str = ChannelType.WHATSAPP_CLOUD
) -> IngestResult:
    result = IngestResult()
    for message in notification.messages:
        _record_message(session, message, result, channel)
    for other in notification.others:
        if (update := template_status_of(other)) is not None:
            _record_template_status(session, update, other)
            continue
        if (account_event := account_event_of(other)) is not None:
            record_account_event(session, account_event)
            _record_template_quality(session, account_event)
            continue
        if (coexistence := coexistence_of(other)) is not None:
            _record_coexistence(session, coexistence, result)
            continue
        reason = other.field if other.field.startswith("invalid") else f"unhandled:{other.field}"
        _reject(session, reason=reason[:64], phone_number_id=None, payload=_as_dict(other))
    return result


def _record_coexistence(session: Session, coexistence: Coexistence, result: IngestResult) -> None:
    """Business-app echoes, history and contacts: stored, never a turn of their own."""
    recorded = record_coexistence(session, coexistence)
    result.stored += recorded.stored
    result.duplicates += recorded.duplicates
    result.rejected += recorded.rejected


def _record_template_quality(session: Session, event: AccountEvent) -> None:
    if event.field != "message_template_quality_update" or event.quality_rating is None:
        return
    templates.apply_quality_update(
        session, waba_id=event.waba_id, template_id=event.template_id, name=event.template_name,
        language=event.template_language, quality=event.quality_rating,
    )  # fmt: skip


def _record_template_status(
    session: Session, update: TemplateStatusUpdate, change: OtherChange
) -> None:
    if templates.apply_status_update(session, update):
        return
    merchant_id = templates.merchant_of_account(session, update.waba_id)
    if merchant_id is not None:  # the merchant's own new template: import it
        jobs.enqueue(session, "switchboard.templates.sync", merchant_id)
        log.info("whatsapp.template_status.import", merchant_id=merchant_id, name=update.name)
        return
    log.warning(
        "whatsapp.template_status.unknown",
        waba_id=update.waba_id,
        name=update.name,
        language=update.language,
    )
    payload = {**_as_dict(change), "entry_id": change.entry_id}
    _reject(session, reason="unknown_template", phone_number_id=None, payload=payload)


def _record_message(
    session: Session, message: InboundMessage, result: IngestResult, channel: str
) -> None:
    account_type = message.channel if channel == ChannelType.WHATSAPP_CLOUD else channel
    stored = _store_known(session, message, account_type)
    if stored is None:  # anything but the usual case: the step by step path
        stored = _store_any(session, message, result, account_type)
        if stored is None:
            return
    conversation, message_id = stored
    if message_id is None:
        result.duplicates += 1
        _count(message, "duplicate")
        log.info("whatsapp.inbound.duplicate", conversation_id=conversation.id)
        return
    stale = _too_old(message)
    _count(message, "stale" if stale else "stored")
    result.stored.append(message_id)
    if message.media is not None:
        result.media.append(message_id)
    if not stale and _answered_survey(session, conversation, message, message_id):
        parking.release(session, conversation.id)
        return
    if not stale and _order_updates_keyword(session, conversation, message, message_id):
        parking.release(session, conversation.id)
        return
    if message.type not in QUIET_TYPES:
        lifecycle.reopen_on_customer_message(session, conversation.id, conversation.status)
    if stale:
        _set_aside(session, conversation_id=conversation.id, message_id=message_id)
    else:  # the window is open again: what waited for it goes out now, before any turn
        parking.release(session, conversation.id)
        if message.type not in QUIET_TYPES:
            result.to_buffer.add(conversation.id)
    if conversation.mode == ConversationMode.OPERATOR:
        events.emit(
            session, "message_received", conversation_id=conversation.id, message_id=message_id,
            message_type=message.type, text=message.text, operator=conversation.assigned_to,
        )  # fmt: skip
    log.info(
        "whatsapp.inbound.stored",
        conversation_id=conversation.id,
        message_id=message_id,
        type=message.type,
    )


@dataclass(frozen=True)
class _Known:
    """What the branches after storing read of the conversation, as it was before."""

    id: int
    mode: str
    status: str
    assigned_to: str | None


def _store_known(
    session: Session, message: InboundMessage, account_type: str
) -> tuple[_Known, int | None] | None:
    """The usual message, in one statement: its number, customer (with nothing new to learn
    of them) and conversation all exist; the message is stored unless it is a retried
    delivery (id None). None: anything else, nothing written."""
    sender = message.sender
    if not (sender.wa_id or sender.user_id):
        return None
    inbound = _inbound_row(message)
    statement = _known_statement(
        bool(sender.wa_id), bool(sender.user_id), bool(sender.profile_name), bool(sender.username),
        tuple(inbound),
    )  # fmt: skip
    params = {
        "p_account_type": account_type,
        "p_phone_number_id": message.phone_number_id,
        "p_wa_id": sender.wa_id,
        "p_user_id": sender.user_id,
        "p_profile_name": sender.profile_name,
        "p_username": stored_username(sender.username),
        **{f"m_{name}": value for name, value in inbound.items()},
    }
    row = session.execute(statement, params).first()
    if row is None or row.message_id is None and not row.ready:
        return None
    known = _Known(row.conversation_id, row.mode, row.status, row.assigned_to)
    return known, row.message_id


def _inbound_row(message: InboundMessage) -> dict[str, Any]:
    """The messages row of an inbound message, but its conversation."""
    return {
        "direction": Direction.INBOUND,
        "author": Author.CUSTOMER,
        "wamid": message.wamid,
        "type": message.type[:32],
        "text": message.text,
        "media": asdict(message.media) if message.media else None,
        "media_status": MediaStatus.PENDING if message.media else None,
        "context_wamid": message.context_wamid,
        "raw": message.raw,
        "wa_timestamp": message.timestamp,
        "status": DeliveryStatus.RECEIVED,
        "send_attempts": 0,
    }


_PHONES = cast(Table, PhoneNumber.__table__)
_CUSTOMERS = cast(Table, Customer.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_MESSAGES = cast(Table, Message.__table__)


@lru_cache(maxsize=16)
def _known_statement(
    wa_id: bool, user_id: bool, profile_name: bool, username: bool, names: tuple[str, ...]
) -> Any:
    """_store_known's statement for a sender giving these (built once, bound per message;
    `names`: the message's columns, as _inbound_row names them):
    the parties as find_parties matches them, flagged `ready` when nothing is to learn or
    open; the message inserted only then; the conversation's last inbound time moved."""
    ready = and_(
        _CONVERSATIONS.c.id.is_not(None),
        learns_nothing(
            wa_id=wa_id, user_id=user_id,
            profile_name=bindparam("p_profile_name", type_=String) if profile_name else None,
            username=bindparam("p_username", type_=String) if username else None,
        ),
    )  # fmt: skip
    parties = (
        select(
            _CONVERSATIONS.c.id.label("conversation_id"),
            _CONVERSATIONS.c.mode,
            _CONVERSATIONS.c.status,
            _CONVERSATIONS.c.assigned_to,
            ready.label("ready"),
        )
        .select_from(_PHONES)
        .outerjoin(
            _CUSTOMERS,
            and_(
                _CUSTOMERS.c.merchant_id == _PHONES.c.merchant_id,
                customer_matches(
                    bindparam("p_wa_id", type_=String) if wa_id else None,
                    bindparam("p_user_id", type_=String) if user_id else None,
                ),
            ),
        )
        .outerjoin(
            _CONVERSATIONS,
            and_(
                _CONVERSATIONS.c.phone_number_id == _PHONES.c.id,
                _CONVERSATIONS.c.customer_id == _CUSTOMERS.c.id,
            ),
        )
        .where(
            _PHONES.c.type == bindparam("p_account_type", type_=String),
            _PHONES.c.phone_number_id == bindparam("p_phone_number_id", type_=String),
        )
        .order_by(_CUSTOMERS.c.id)
        .limit(1)
        .cte("parties")
    )
    columns = _MESSAGES.c
    values = [bindparam(f"m_{name}", type_=columns[name].type) for name in names]
    inserted = (
        insert(_MESSAGES)
        .from_select(
            ["conversation_id", *names],
            select(parties.c.conversation_id, *values).where(parties.c.ready),
        )
        .on_conflict_do_nothing(index_elements=["wamid"])
        .returning(_MESSAGES.c.id, _MESSAGES.c.conversation_id)
        .cte("inserted")
    )
    at = bindparam("m_wa_timestamp", type_=columns["wa_timestamp"].type)
    touched = (
        update(_CONVERSATIONS)
        .where(_CONVERSATIONS.c.id == inserted.c.conversation_id)
        .values(last_inbound_at=func.greatest(_CONVERSATIONS.c.last_inbound_at, at))
        .returning(_CONVERSATIONS.c.id)
        .cte("touched")
    )
    return (
        select(parties, inserted.c.id.label("message_id"))
        .select_from(parties.outerjoin(inserted, true()))
        .add_cte(touched)
    )


def _store_any(
    session: Session, message: InboundMessage, result: IngestResult, account_type: str
) -> tuple[_Known, int | None] | None:
    """Step by step: reject, or learn the customer and open the conversation, then store.
    None: rejected."""
    parties = find_parties(
        session,
        phone_number_id=message.phone_number_id,
        wa_id=message.sender.wa_id,
        user_id=message.sender.user_id,
        channel=account_type,
    )
    if parties is None:
        log.warning("whatsapp.inbound.unknown_number", phone_number_id=message.phone_number_id)
        _count(message, "unknown_number")
        _reject(
            session,
            reason="unknown_phone_number",
            phone_number_id=message.phone_number_id,
            payload=message.raw,
        )
        result.rejected += 1
        return None
    phone, found, conversation = parties
    if not (message.sender.wa_id or message.sender.user_id):
        _reject(
            session,
            reason="no_sender",
            phone_number_id=message.phone_number_id,
            payload=message.raw,
        )
        _count(message, "no_sender")
        result.rejected += 1
        return None
    customer = upsert_customer(
        session,
        merchant_id=phone.merchant_id,
        wa_id=message.sender.wa_id,
        user_id=message.sender.user_id,
        profile_name=message.sender.profile_name,
        username=message.sender.username,
        found=found,
    )
    if conversation is None:
        conversation = upsert_conversation(session, phone_id=phone.id, customer_id=customer.id)
    known = _Known(conversation.id, conversation.mode, conversation.status,
                   conversation.assigned_to)  # fmt: skip
    return known, store_inbound(session, conversation_id=conversation.id, message=message)


def _answered_survey(
    session: Session, known: _Known, message: InboundMessage, message_id: int
) -> bool:
    """A survey answer is stored as such: no turn, and the conversation stays resolved."""
    if not may_answer(known.status):
        return False
    conversation = session.get(Conversation, known.id)
    stored = session.get(Message, message_id)
    if conversation is None or stored is None or not take_answer(session, conversation, stored):
        return False
    set_aside(session, conversation_id=known.id, message_ids=[message_id],
              outcome=TurnResult.CSAT)  # fmt: skip
    return True


def _order_updates_keyword(
    session: Session, known: _Known, message: InboundMessage, message_id: int
) -> bool:
    """A "stop"/"start" to order updates is answered as such: no turn."""
    if keyword_of(message.type, message.text) is None:
        return False
    conversation = session.get(Conversation, known.id)
    stored = session.get(Message, message_id)
    if conversation is None or stored is None or not take_keyword(session, conversation, stored):
        return False
    set_aside(session, conversation_id=known.id, message_ids=[message_id],
              outcome=TurnResult.ORDER_UPDATES)  # fmt: skip
    return True


def _too_old(message: InboundMessage) -> bool:
    """Older than WhatsApp's own retries would deliver: a replay (WhatsApp does not sign
    the timestamp, but a replayed body keeps its date) or something long lost."""
    max_age = get_settings().webhook_max_message_age_seconds
    if max_age <= 0:
        return False
    return message.timestamp < datetime.now(UTC) - timedelta(seconds=max_age)


def _set_aside(session: Session, *, conversation_id: int, message_id: int) -> None:
    """Never answered automatically; people still see it."""
    set_aside(
        session, conversation_id=conversation_id, message_ids=[message_id],
        outcome=TurnResult.STALE,
    )  # fmt: skip
    log.warning(
        "whatsapp.inbound.stale",
        conversation_id=conversation_id,
        message_id=message_id,
        max_age_seconds=get_settings().webhook_max_message_age_seconds,
    )


_KNOWN_TYPES = frozenset({
    "text", "image", "audio", "video", "document", "sticker", "location", "contacts",
    "interactive", "button", "reaction", "order", "system", "unsupported", "request_welcome",
})  # fmt: skip


def _count(message: InboundMessage, outcome: str) -> None:
    kind = message.type if message.type in _KNOWN_TYPES else "other"
    WEBHOOK_MESSAGES.labels(kind, outcome).inc()


def store_inbound(session: Session, *, conversation_id: int, message: InboundMessage) -> int | None:
    """Store a WhatsApp message once; return its id if it is new (None: a retried delivery).
    A new one moves the conversation's last inbound time, in the same statement."""
    inserted = (
        insert(Message)
        .values(conversation_id=conversation_id, **_inbound_row(message))
        .on_conflict_do_nothing(index_elements=["wamid"])
        .returning(Message.id)
        .cte("inserted")
    )
    touched = (
        update(Conversation)
        .where(Conversation.id == conversation_id, exists(select(inserted.c.id)))
        .values(last_inbound_at=func.greatest(Conversation.last_inbound_at, message.timestamp))
        .returning(Conversation.id)
        .cte("touched")
    )
    return session.scalar(select(inserted.c.id).add_cte(touched))


def _reject(session: Session, *, reason: str, phone_number_id: str | None, payload: Any) -> None:
    session.add(RejectedWebhook(reason=reason, phone_number_id=phone_number_id, payload=payload))


def _as_dict(other: OtherChange) -> dict[str, Any]:
    return {"field": other.field, "value": other.value}
