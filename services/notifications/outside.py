"""A staff answer for a customer whose 24-hour window has closed: the answer template on
WhatsApp; on Instagram, which has no templates, the answer as a HUMAN_AGENT-tagged text
(a person answered) for 7 days, and after that only a note for the operators."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from persistence.models import (
    Author,
    Conversation,
    DeliveryMethod,
    Message,
    Notification,
    PhoneNumber,
)
from services.conversations.window import PersonReach, person_reach
from services.delivery.outbox import enqueue_message
from services.handoff.handoff import add_note
from services.handoff.reach import tag_human_agent
from services.notifications.kinds import kind_of
from services.templates import templates


@dataclass(frozen=True)
class LateAnswer:
    record: str  # what the team answered, for the conversation's notes
    merchant_name: str
    question: str
    fragment: str  # the answer, localized, to fill the template
    sentence: str  # the answer, localized, as a message of its own
    language: str


def answer_outside_window(
    session: Session, conversation: Conversation, notification: Notification, answer: LateAnswer
) -> tuple[int | None, DeliveryMethod]:
    """Queue what can reach the customer; (outbox id to send or None, how it went)."""
    phone = session.get(PhoneNumber, conversation.phone_number_id)
    assert phone is not None
    reach = person_reach(conversation, phone)
    if reach == PersonReach.HUMAN_AGENT:
        message_id = enqueue_message(
            session, conversation_id=conversation.id, text=answer.sentence, author=Author.SYSTEM
        )
        message = session.get(Message, message_id)
        assert message is not None
        tag_human_agent(message)
        add_note(session, conversation.id, f"{answer.record} It went to the customer on "
                 "Instagram as a person's answer (HUMAN_AGENT tag): their 24-hour window "
                 "was closed.")  # fmt: skip
        return message_id, DeliveryMethod.HUMAN_AGENT
    if reach == PersonReach.CLOSED:
        add_note(session, conversation.id, f"{answer.record} It could not reach the customer: "
                 "they last wrote on Instagram more than 7 days ago. Pass it on when they "
                 "write again.")  # fmt: skip
        return None, DeliveryMethod.NOTE
    message_id = templates.enqueue_template(
        session, conversation_id=conversation.id, role=kind_of(notification.type).answer_template,
        language=answer.language, merchant_id=notification.merchant_id,
        values={"merchant_name": answer.merchant_name, "question": answer.question,
                "answer": answer.fragment},
    )  # fmt: skip
    add_note(session, conversation.id, f"{answer.record} It went to the customer as a "
             "template message: their 24-hour window was closed.")  # fmt: skip
    return message_id, DeliveryMethod.TEMPLATE
