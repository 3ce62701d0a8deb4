"""Sending what was parked, in order, each message once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, text

from channels.errors import OutsideServiceWindow, codes_of
from channels.webhook import StatusUpdate
from persistence.db import get_engine, session_scope
from persistence.models import TURN_AUTHORS, Message
from services.conversations.conversation import lock_conversation
from services.delivery.flows import apply_statuses as apply_delivery_statuses
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
            send_pending(message_id, only_in_ai_mode=author in TURN_AUTHORS)
    return len(waiting)


def park_refused_turn(conversation_id: int, turn_id: int) -> bool:
    """WhatsApp refused the turn's reply because the window is closed (131047): park it,
    and send the re-engagement template (once). True when something was parked."""
    with session_scope() as session:
        refused = [m.id for m in refused_outside_window(session, turn_id=turn_id)]
    return _park(conversation_id, refused)


def apply_statuses(statuses: list[StatusUpdate]) -> int:
    """Delivery statuses from webhooks. WhatsApp may accept a send and fail it later with
    131047 (the window had closed): that message is parked like a refused one."""
    matched = apply_delivery_statuses(statuses)
    for status in late_refusals(statuses):
        _park_failed_send(status.wamid)
    return matched


def late_refusals(statuses: list[StatusUpdate]) -> list[StatusUpdate]:
    """Failed statuses saying the customer's window had closed: their messages get parked."""
    closed = codes_of(OutsideServiceWindow)
    return [
        status
        for status in statuses
        if status.status == "failed" and any(e.code in closed for e in status.errors)
    ]


def _park_failed_send(wamid: str) -> None:
    with session_scope() as session:
        conversation_id = session.scalar(
            select(Message.conversation_id).where(Message.wamid == wamid)
        )
        if conversation_id is None:
            return
        refused = [m.id for m in refused_outside_window(session, wamid=wamid)]
    _park(conversation_id, refused)


def _park(conversation_id: int, message_ids: list[int]) -> bool:
    """Park these refused messages (under the conversation's lock, in one transaction) and
    send the re-engagement template, or release them at once if the customer wrote since."""
    if not message_ids:
        return False
    with session_scope() as session:
        conversation = lock_conversation(session, conversation_id)
        refused = park_refused(session, message_ids)
        if not refused:
            return False
        if wrote_since(conversation, refused):  # its release came too early: release now
            release(session, conversation_id)
            reengagement = None
        else:
            reengagement = reengage(session, conversation)
    if reengagement is not None:
        send_pending(reengagement, only_in_ai_mode=False)
    return True
