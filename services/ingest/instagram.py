"""Storing what Instagram's messaging webhooks report.

Customer messages and read receipts take the WhatsApp path (`intake`), on the account's
Instagram channel. Echoes are the business speaking: one typed in the Instagram app is
stored as the business's message and takes the conversation over (the AI steps aside), as a
WhatsApp Business app echo does. Instagram echoes our own API sends too: those are known
by their mid, or, when the echo overtakes the send's answer, by an in-flight send of the
same content, and are never mistaken for a person. An unsent message loses its content.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from channels.coexistence import ChatMessage, Coexistence
from channels.instagram.webhook import InstagramNotification, Unsend
from observability.logs import get_logger
from persistence import jobs
from persistence.db import session_scope
from persistence.models import ChannelType, DeliveryStatus, Direction, Message
from services.conversations.conversation import find_parties
from services.ingest.coexistence import record_coexistence
from services.ingest.flows import Scheduler, intake
from services.ingest.ingest import IngestResult

log = get_logger(__name__)

INSTAGRAM = ChannelType.INSTAGRAM
_IN_FLIGHT = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN)
_ECHO_RACE = timedelta(minutes=5)
PROFILE_TASK = "switchboard.instagram.profile"


def intake_instagram(parsed: InstagramNotification, scheduler: Scheduler) -> IngestResult:
    result = intake(parsed.notification, scheduler, channel=INSTAGRAM)
    if result.stored:
        _learn_names(parsed)
    if not (parsed.echoes or parsed.unsends):
        return result
    with session_scope() as session:
        echoes = tuple(e for e in parsed.echoes if not _our_send(session, e))
        recorded = record_coexistence(session, Coexistence(echoes=echoes), channel=INSTAGRAM)
        for unsend in parsed.unsends:
            _unsend(session, unsend)
    result.stored += recorded.stored
    result.duplicates += recorded.duplicates + len(parsed.echoes) - len(echoes)
    result.rejected += recorded.rejected
    return result


def _learn_names(parsed: InstagramNotification) -> None:
    """Ask Instagram for the name of customers we know only by IGSID (once each)."""
    senders = {(m.phone_number_id, m.sender.user_id) for m in parsed.notification.messages}
    with session_scope() as session:
        for account_id, igsid in senders:
            parties = find_parties(
                session, phone_number_id=account_id, wa_id=None, user_id=igsid, channel=INSTAGRAM
            )
            if parties is None or parties[1] is None or parties[1].profile_name:
                continue
            jobs.enqueue(session, PROFILE_TASK, parties[1].id, parties[0].id)


def _our_send(session: Session, echo: ChatMessage) -> bool:
    """Whether the echo is of a message we sent (or are sending) through the API."""
    if session.scalar(select(exists().where(Message.wamid == echo.wamid))):
        return True
    parties = find_parties(
        session, phone_number_id=echo.phone_number_id, wa_id=None,
        user_id=echo.customer.user_id, channel=INSTAGRAM,
    )  # fmt: skip
    conversation = parties[2] if parties else None
    if conversation is None:
        return False
    in_flight = select(Message.id).where(
        Message.conversation_id == conversation.id,
        Message.direction == Direction.OUTBOUND,
        Message.wamid.is_(None),
        Message.status.in_(_IN_FLIGHT),
        Message.created_at > datetime.now(UTC) - _ECHO_RACE,
    )
    if echo.text is not None:
        in_flight = in_flight.where(Message.text == echo.text)
    else:
        in_flight = in_flight.where(Message.type == echo.type)
    return session.scalar(in_flight.limit(1)) is not None


def _unsend(session: Session, unsend: Unsend) -> None:
    """The customer deleted a message: keep that it existed, not what it said."""
    found = session.execute(
        update(Message)
        .where(Message.wamid == unsend.mid, Message.direction == Direction.INBOUND)
        .values(type="deleted", text=None, raw={"mid": unsend.mid, "is_deleted": True})
        .returning(Message.id, Message.conversation_id)
    ).first()
    if found is None:
        log.info("instagram.unsend.unknown", account_id=unsend.account_id)
        return
    log.info("instagram.unsend", message_id=found.id, conversation_id=found.conversation_id)
