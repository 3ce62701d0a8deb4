"""Sending what was parked, in order, each message once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from persistence.db import get_engine, session_scope
from persistence.models import Author
from services.conversations.conversation import lock_conversation
from services.delivery.flows import send_pending
from services.parking.parking import (
    park_refused,
    reengage,
    refused_outside_window,
    release,
    released_unsent,
    wrote_since,
)

_RELEASE_LOCK_NAMESPACE = 2  # 1 is the turn lock (services.turns.flows)


@contextmanager
def _release_lock(conversation_id: int) -> Iterator[None]:
    """One sender of a conversation's released messages at a time (the release task and a
    turn may both try), so the second finds them sent and order holds."""
    args = {"ns": _RELEASE_LOCK_NAMESPACE, "id": conversation_id}
    with get_engine().connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:ns, :id)"), args)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:ns, :id)"), args)
            conn.commit()


def send_released(conversation_id: int) -> int:
    """Send the conversation's released messages in order; how many were tried. An AI
    message is dropped if an operator took the conversation over meanwhile."""
    with _release_lock(conversation_id):
        with session_scope() as session:
            waiting = released_unsent(session, conversation_id)
        for message_id, author in waiting:
            send_pending(message_id, only_in_ai_mode=author == Author.AI)
    return len(waiting)


def park_refused_turn(conversation_id: int, turn_id: int) -> bool:
    """WhatsApp refused the turn's reply because the window is closed (131047): park it,
    and send the re-engagement template (once). True when something was parked."""
    with session_scope() as session:
        conversation = lock_conversation(session, conversation_id)
        refused = refused_outside_window(session, turn_id)
        if not refused:
            return False
        park_refused(session, [message.id for message in refused])
        if wrote_since(conversation, refused):  # its release came too early: release now
            release(session, conversation_id)
            reengagement = None
        else:
            reengagement = reengage(session, conversation)
    if reengagement is not None:
        send_pending(reengagement, only_in_ai_mode=False)
    return True
