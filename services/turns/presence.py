"""Read receipts with a typing indicator while the AI works (WhatsApp shows it for 25 s)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from channels.errors import WhatsAppError
from channels.whatsapp import WhatsAppClient
from graph.context import TurnContext
from observability.logs import get_logger
from persistence.db import session_scope
from persistence.models import ChannelType, ConversationMode, Direction, Message
from services.conversations.conversation import conversation_parties
from services.merchants.clients import client_for

log = get_logger(__name__)

REFRESH_SECONDS = 20.0


@contextmanager
def typing_indicator(context: TurnContext, refresh: float = REFRESH_SECONDS) -> Iterator[None]:
    """Mark the turn's last inbound message read and keep the indicator alive until exit."""
    target = _last_inbound(context)
    if target is None:
        yield
        return
    client, wamid = target
    stop = threading.Event()

    def keep_typing() -> None:
        while True:
            try:
                client.mark_read(wamid, typing=True)
            except WhatsAppError as exc:
                log.info("whatsapp.typing.failed", code=exc.code)
                return
            if stop.wait(refresh):
                return

    thread = threading.Thread(target=keep_typing, name="typing", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()


def _last_inbound(context: TurnContext) -> tuple[WhatsAppClient, str] | None:
    with session_scope() as session:
        conversation, _, phone = conversation_parties(session, context.conversation_id)
        if conversation.mode != ConversationMode.AI:
            return None  # a read receipt would tell the customer someone read it
        wamid = session.scalar(
            select(Message.wamid)
            .where(Message.turn_id == context.turn_id, Message.direction == Direction.INBOUND)
            .order_by(Message.wa_timestamp.desc(), Message.id.desc())
            .limit(1)
        )
        if phone.type != ChannelType.WHATSAPP_CLOUD:
            return None  # no read receipt or typing indicator to send on Twilio
        return (client_for(phone), wamid) if wamid else None
