"""Read receipts, with a typing indicator while the AI works (WhatsApp shows it for 25 s).

The indicator goes out only once a turn has worked for TYPING_GRACE_SECONDS: a turn that
has its reply sooner (an instant model, a knowledge-base answer) marks the message read
after its reply is sent. An indicator that would show for a few milliseconds tells the
customer nothing, and its request, sent while the turn builds its reply, delayed that reply
(0.3-0.9 ms p50, measured interleaved, issue #19). A turn that waits on a model shows it
while it waits.
"""

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
TYPING_GRACE_SECONDS = 0.5


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
def typing_indicator(
    target: ReadReceipt, refresh: float = REFRESH_SECONDS, grace: float = TYPING_GRACE_SECONDS
) -> Iterator[threading.Event]:
    """Mark the turn's last inbound message read: with a typing indicator, refreshed until
    the reply is ready (the caller sets the yielded event), if that takes longer than
    `grace`; otherwise without one, at exit (after the reply's send)."""
    client, wamid = target.client, target.wamid
    answered, finished = threading.Event(), threading.Event()

    def mark_read(typing: bool) -> bool:
        try:
            client.mark_read(wamid, typing=typing)
        except WhatsAppError as exc:
            log.info("whatsapp.typing.failed", code=exc.code)
            return False
        except Exception:  # the executor would keep it to itself
            log.exception("whatsapp.typing.crashed")
            return False
        return True

    def keep_typing() -> None:
        if answered.wait(grace):
            finished.wait()  # the reply goes first
            mark_read(typing=False)
            return
        while mark_read(typing=True) and not answered.wait(refresh):
            pass

    _typists.submit(keep_typing)
    try:
        yield answered
    finally:
        answered.set()
        finished.set()
