"""Whether an operator's message can reach the customer now, and how (channel rules)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from persistence.models import ChannelType, Conversation, Message, PhoneNumber
from services.conversations.window import HUMAN_AGENT, PersonReach, person_reach
from services.errors import Conflict


def operator_reach(session: Session, conversation: Conversation, *, template: bool) -> PersonReach:
    """How an operator's message goes out; Conflict (409) when it cannot go at all."""
    phone = session.get(PhoneNumber, conversation.phone_number_id)
    assert phone is not None
    reach = person_reach(conversation, phone)
    if phone.type == ChannelType.INSTAGRAM and template:
        raise Conflict("Instagram has no message templates: send a text instead")
    if reach == PersonReach.CLOSED:
        raise Conflict(
            f"conversation {conversation.id} is on Instagram and the customer last wrote more "
            "than 7 days ago: Instagram lets a person answer for 7 days (HUMAN_AGENT tag), "
            "after that nothing reaches them until they write again"
        )
    return reach


def tag_human_agent(message: Message) -> None:
    """Send this message with Instagram's HUMAN_AGENT tag (see services.delivery.flows)."""
    message.raw = {**(message.raw or {}), HUMAN_AGENT: True}
