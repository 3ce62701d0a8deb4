"""The outbox's workflows, each step in its own transaction: sending a pending message
(claim, call the provider, record), reconciling a send whose outcome is unknown, applying
delivery statuses, and the AI sending a library file or an offer (options) now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Update, select, update
from sqlalchemy.orm import Session

from channels.base import Channel, OutboundMessage, OutboundText, Recipient
from channels.errors import DeliveryOutcomeUnknown, WhatsAppError
from channels.instagram.channel import InstagramChannel
from channels.webhook import StatusUpdate
from observability.logs import get_logger
from observability.metrics import MESSAGES_SENT, SENDS
from persistence.db import session_scope
from persistence.models import (
    TURN_AUTHORS,
    Author,
    ConversationMode,
    DeliveryStatus,
    MediaAsset,
    Message,
)
from services import failpoints
from services.conversations.conversation import message_parties
from services.conversations.window import HUMAN_AGENT
from services.delivery.outbox import CALLBACK_PREFIX
from services.delivery.outbox import apply_statuses as apply_outbox_statuses
from services.interactive.offer import Offer
from services.interactive.service import enqueue_offer, fit_offer, offer_of
from services.media import send as media_send
from services.media.flows import resolve_media
from services.media.send import MediaRef, MediaUnavailable, enqueue_asset
from services.merchants.clients import channel_for
from services.outbound import stored_cards, stored_products
from services.templates.templates import stored_template

log = get_logger(__name__)


def send_asset(
    *, conversation_id: int, turn_id: int, asset_id: int, caption: str
) -> tuple[DeliveryStatus, str | None]:
    """The AI sends a library file now (before its text reply), only while in AI mode.

    Returns the delivery status and, when it did not go out, why."""
    with session_scope() as session:
        asset = session.get(MediaAsset, asset_id)
        if asset is None:
            raise MediaUnavailable(f"media asset {asset_id} was deleted from the library")
        message = enqueue_asset(
            session, conversation_id=conversation_id, asset=asset, caption=caption,
            author=Author.AI, turn_id=turn_id,
        )  # fmt: skip
        message_id = message.id
    status = send_pending(message_id, only_in_ai_mode=True)
    with session_scope() as session:
        detail = session.scalar(select(Message.error_detail).where(Message.id == message_id))
    return status, detail


@dataclass(frozen=True)
class OfferSent:
    status: DeliveryStatus
    sent_as: str | None  # buttons, list, cta_url, location_request, or numbered
    detail: str | None  # why it did not go out, or why it went as numbered text


def send_offer(*, conversation_id: int, turn_id: int, offer: Offer) -> OfferSent:
    """The AI sends options now (before its text reply), only while in AI mode."""
    with session_scope() as session:
        message_id = enqueue_offer(
            session, conversation_id=conversation_id, offer=offer, author=Author.AI,
            turn_id=turn_id,
        ).id  # fmt: skip
    status = send_pending(message_id, only_in_ai_mode=True)
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        sent = offer_of(message)
        detail = message.error_detail or (sent.fallback_reason if sent else None)
        return OfferSent(status, sent.sent_as if sent else None, detail)


def send_pending(message_id: int, *, only_in_ai_mode: bool) -> DeliveryStatus:
    """Send one outbox message. Each step commits on its own; see the module docstring."""
    with session_scope() as session:
        claimed = claim(session, message_id)
    if not claimed:
        return _status_of(message_id)
    return send_claimed(message_id, only_in_ai_mode=only_in_ai_mode)


def claim(session: Session, message_id: int) -> bool:
    """Mark a pending message `sending`; False when it is not pending. Commit it before
    sending (send_claimed): a crash after the commit leaves it in flight, to reconcile,
    never to send twice."""
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
    return claimed is not None


def send_claimed(
    message_id: int,
    *,
    only_in_ai_mode: bool,
    text: bool = False,
    on_accepted: Callable[[], Update] | None = None,
) -> DeliveryStatus:
    """Send a message claimed in a committed transaction. `text`: the caller knows it is
    plain text (a turn's reply), so there is no media to look up. `on_accepted`: makes an
    UPDATE run within the one that records the accepted send, as its CTE (a turn finishing
    with its reply: one round trip, one transaction); made after the send, not before it."""
    try:
        media = None if text else resolve_media(message_id)
    except media_send.MediaUnavailable as exc:
        return _fail_unsendable(message_id, exc.message)
    status, rejected = _send_locked(
        message_id, media, only_in_ai_mode, retry_media=True, on_accepted=on_accepted
    )
    if not rejected:
        return status
    # WhatsApp no longer knows the cached media id: upload the file again, send once more.
    try:
        media = resolve_media(message_id, refresh=True)
    except media_send.MediaUnavailable as exc:
        return _fail_unsendable(message_id, exc.message)
    status, _ = _send_locked(
        message_id, media, only_in_ai_mode, retry_media=False, on_accepted=on_accepted
    )
    return status


def _send_locked(
    message_id: int,
    media: MediaRef | None,
    only_in_ai_mode: bool,
    *,
    retry_media: bool,
    on_accepted: Callable[[], Update] | None = None,
) -> tuple[DeliveryStatus, bool]:
    """One send under the conversation's FOR KEY SHARE lock; True when its media id was
    refused and the caller may upload again (the row then stays `sending`)."""
    with session_scope() as session:
        found = message_parties(session, message_id)
        assert found is not None
        message, (conversation, customer, phone) = found
        if only_in_ai_mode and conversation.mode != ConversationMode.AI:
            message.status = DeliveryStatus.DROPPED
            message.error_detail = "an operator took over before it was sent"
            SENDS.labels("dropped", "").inc()
            log.info("whatsapp.send.dropped", message_id=message_id)
            return message.status, False
        recipient = Recipient(wa_id=customer.wa_id, user_id=customer.user_id)
        channel = human_agent(channel_for(phone), message)
        outbound = outbound_message(message, media, channel)
        try:
            failpoints.hit("delivery.before_send")  # claimed (`sending`), never sent
            wamid = channel.send_message(
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
        MESSAGES_SENT.labels(str(message.author)).inc()
        accepted = (
            update(Message)
            .where(Message.id == message.id)
            .values(wamid=wamid, status=DeliveryStatus.ACCEPTED, status_at=datetime.now(UTC))
        )
        if on_accepted is not None:
            accepted = accepted.add_cte(on_accepted().cte("on_accepted"))
        # on the session's connection, without the ORM's bookkeeping (`message` is not read
        # again); what fitting an offer changed on `message` is flushed at commit
        session.connection().execute(accepted)
        log.info("whatsapp.send.accepted", message_id=message_id)
        return DeliveryStatus.ACCEPTED, False


def human_agent(channel: Channel, message: Message) -> Channel:
    """An Instagram message a person wrote after the 24 h window goes with the HUMAN_AGENT
    tag (decided when it was queued, see services.conversations.window.person_reach)."""
    if isinstance(channel, InstagramChannel) and (message.raw or {}).get(HUMAN_AGENT):
        return channel.as_human_agent()
    return channel


def outbound_message(message: Message, media: MediaRef | None, channel: Channel) -> OutboundMessage:
    """What a row sends: a template (kept in raw["template"]), catalog products
    (raw["products"]), an offer (raw["offer"], fitted to the channel), a library file, or
    text; a file the channel cannot attach goes as a link in text."""
    if message.type == "template":
        return stored_template(message.raw or {})
    if (message.raw or {}).get("products"):
        return stored_products(message.raw or {})
    if (message.raw or {}).get("cards"):
        return stored_cards(message.raw or {})
    if message.type == "interactive" or (message.raw or {}).get("offer"):
        return fit_offer(message, channel)
    if media is None:
        return OutboundText(message.text or "")
    if media.link and media.kind not in channel.capabilities.media_kinds:
        return file_as_link(media, message.text)
    return media.outbound(message.text)


def file_as_link(media: MediaRef, caption: str | None) -> OutboundText:
    """A file the channel cannot attach (a PDF on Instagram): its caption and a link."""
    lines = [caption or "", f"📎 {media.filename}: {media.link}"]
    return OutboundText("\n".join(line for line in lines if line))


def _fail_unsendable(message_id: int, reason: str) -> DeliveryStatus:
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        message.status = DeliveryStatus.FAILED
        message.status_at = datetime.now(UTC)
        message.error_detail = reason[:2000]
    log.warning("whatsapp.send.failed", message_id=message_id, reason="media")
    return DeliveryStatus.FAILED


def _record_error(message: Message, status: DeliveryStatus, exc: WhatsAppError) -> None:
    message.status = status
    message.status_at = datetime.now(UTC)
    message.error_code = exc.code
    message.error_detail = str(exc)[:2000]


def _status_of(message_id: int) -> DeliveryStatus:
    with session_scope() as session:
        status = session.scalar(select(Message.status).where(Message.id == message_id))
        return DeliveryStatus(status) if status else DeliveryStatus.FAILED


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
        only_ai = message.author in TURN_AUTHORS
    return send_pending(message_id, only_in_ai_mode=only_ai)


def apply_statuses(statuses: list[StatusUpdate]) -> int:
    """Apply what the provider reported; how many outbound messages it matched."""
    with session_scope() as session:
        return apply_outbox_statuses(session, statuses)
