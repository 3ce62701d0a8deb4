"""Read receipts with a typing indicator while the AI works (WhatsApp shows it for 25 s)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from channels.errors import WhatsAppError
from channels.whatsapp import WhatsAppClient
from observability.logs import get_logger
from persistence.models import ChannelType, ConversationMode, Message
from services.conversations.conversation import Parties
from services.merchants.clients import client_for

log = get_logger(__name__)

REFRESH_SECONDS = 20.0


@dataclass(frozen=True)
class ReadReceipt:
    """The message to mark read, and the client that marks it."""

    client: WhatsAppClient
    wamid: str


def read_receipt(parties: Parties, burst: list[Message]) -> ReadReceipt | None:
    """The burst's last message (`burst` in WhatsApp order), read with the turn's start;
    None when nobody should see it read (an operator has the conversation) or the channel
    has no read receipts (Twilio)."""
    conversation, _, phone = parties
    if conversation.mode != ConversationMode.AI:
        return None  # a read receipt would tell the customer someone read it
    if phone.type != ChannelType.WHATSAPP_CLOUD or not burst or not burst[-1].wamid:
        return None  # no read receipt or typing indicator to send on Twilio
    return ReadReceipt(client_for(phone), burst[-1].wamid)


# The typing indicators' threads, kept for the process: starting one per turn costs about a
# millisecond. The executor reuses an idle thread and starts another only when all are busy
# (a Graph API call slower than a turn).
_TYPISTS = 32
_typists = ThreadPoolExecutor(_TYPISTS, thread_name_prefix="typing")


def reset() -> None:
    """Forget the threads (after a fork: they are the parent's)."""
    global _typists
    _typists = ThreadPoolExecutor(_TYPISTS, thread_name_prefix="typing")


@contextmanager
def typing_indicator(target: ReadReceipt, refresh: float = REFRESH_SECONDS) -> Iterator[None]:
    """Mark the turn's last inbound message read and keep the indicator alive until exit."""
    client, wamid = target.client, target.wamid
    stop = threading.Event()

    def keep_typing() -> None:
        while True:
            try:
                client.mark_read(wamid, typing=True)
            except WhatsAppError as exc:
                log.info("whatsapp.typing.failed", code=exc.code)
                return
            except Exception:  # the executor would keep it to itself
                log.exception("whatsapp.typing.crashed")
                return
            if stop.wait(refresh):
                return

    _typists.submit(keep_typing)
    try:
        yield
    finally:
        stop.set()
