"""Handoff workflows that own their transactions: an operator's message to the customer."""

from __future__ import annotations

from persistence.db import session_scope
from persistence.models import DeliveryStatus
from services.access.auth import Principal
from services.delivery.flows import send_pending
from services.handoff.handoff import ConversationRef, prepare_operator_message
from services.interactive.offer import Offer
from services.templates.chosen import TemplateChoice


def send_operator_message(
    ref: ConversationRef,
    principal: Principal,
    text: str | None,
    *,
    media_key: str | None,
    options: list[str] | None = None,
    template: TemplateChoice | None = None,
    offer: Offer | None = None,
) -> tuple[int, DeliveryStatus]:
    """Write the message to the outbox and commit (durable before the Graph API call), then
    send it now, or, parked outside the window, send the re-engagement template instead.
    The message's id and how the send went; domain errors come before any write."""
    with session_scope() as session:
        prepared = prepare_operator_message(
            session, ref, principal, text, media_key=media_key, options=options,
            template=template, offer=offer,
        )  # fmt: skip
        message_id, status = prepared.message.id, prepared.message.status
    if prepared.reengagement_id is not None:
        send_pending(prepared.reengagement_id, only_in_ai_mode=False)
    if status == DeliveryStatus.PARKED:
        return message_id, status
    return message_id, send_pending(message_id, only_in_ai_mode=False)
