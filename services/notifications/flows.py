"""Escalation workflows that own their transactions: dispatching a request to the staff,
delivering an answer to its customer, and drafting an answer's public facts for review.

Knowledge grows from the team's answers without leaking what one customer was told to the
next: an answer to a customer's question reaches that customer only. It
becomes knowledge only as a draft that a small model writes of the lasting, public facts it
holds ("Do you ship to Canada?" / "Yes, in 5 to 7 working days"), which a person reviews and
publishes. Answers about one customer's order, account or situation give no draft; a draft
that still looks personal (an order or tracking number, an address, the customer's name) is
dropped in code, whatever the model said; and publishing checks it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from graph.llm import METERED, LLMNotConfigured, build_structured_model
from observability.logs import get_logger
from observability.metrics import KNOWLEDGE_DRAFTS
from persistence import jobs
from persistence.db import session_scope
from persistence.models import (
    Author,
    Conversation,
    ConversationMode,
    Customer,
    DeliveryMethod,
    Direction,
    DocumentStatus,
    Merchant,
    MerchantUser,
    Message,
    Notification,
    NotificationRecipient,
    NotificationStatus,
)
from services.conversations.conversation import conversation_parties
from services.conversations.window import within_service_window
from services.delivery.outbox import enqueue_message
from services.handoff.handoff import add_note, lock
from services.knowledge import knowledge
from services.knowledge.personal_data import find_personal_data
from services.notifications.closure import closed_notice
from services.notifications.dispatch import dispatch_locked, unsent_requests
from services.notifications.kinds import NotificationType, kind_of
from services.notifications.localization import localize
from services.notifications.notifications import asked_text, ref
from services.notifications.outside import LateAnswer, answer_outside_window
from services.notifications.routing import Route, classify
from services.notifications.translation import needs_translation, translate
from services.templates import templates
from services.templates.defaults import TemplateRole
from settings import get_settings

log = get_logger(__name__)


@dataclass
class AnswerDelivery:
    send: list[int] = field(default_factory=list)  # outbox ids to send after commit
    run_turn: int | None = None  # the customer conversation whose graph relays the answer
    method: DeliveryMethod | None = None


@dataclass(frozen=True)
class _Facts:
    text: str
    merchant_name: str
    customer_texts: list[str]
    language: str
    lead_in: str



def deliver_answer(notification_id: int) -> AnswerDelivery:
    facts = _delivery_facts(notification_id)
    if facts is None:
        return AnswerDelivery()
    localized = localize(
        answer=facts.text, merchant_name=facts.merchant_name, customer_texts=facts.customer_texts,
        fallback_language=facts.language, lead_in=facts.lead_in,
    )  # fmt: skip
    plan = AnswerDelivery()
    with session_scope() as session:
        notification = session.get(Notification, notification_id, with_for_update=True)
        if notification is None or notification.delivered_at is not None:
            return plan
        kind = kind_of(notification.type)
        conversation = lock(session, notification.conversation_id)
        customer = session.get(Customer, conversation.customer_id)
        assert customer is not None
        if localized.by_model and not customer.language:
            customer.language = localized.language
        question = notification.context.get("question")
        record = (
            f"The team answered {ref(notification.id)} "
            f"({kind.title}{': ' + question if question else ''}): {facts.text}"
        )
        if not within_service_window(conversation):
            late = LateAnswer(
                record=record, merchant_name=facts.merchant_name, question=question or "",
                fragment=localized.fragment, sentence=localized.sentence,
                language=localized.language,
            )  # fmt: skip
            sent, plan.method = answer_outside_window(session, conversation, notification, late)
            plan.send += [sent] if sent is not None else []
        elif conversation.mode == ConversationMode.AI:
            add_note(session, conversation.id, f"{record}\nSuggested wording: "
                     f"{localized.sentence}\nPass this answer on to the customer now, "
                     "in the conversation's language and tone.")  # fmt: skip
            conversation.reply_requested = True
            jobs.enqueue(session, "switchboard.turn.flush", conversation.id)
            plan.run_turn, plan.method = conversation.id, DeliveryMethod.CONVERSATION
        else:
            add_note(session, conversation.id, f"{record} An operator has this conversation: "
                     "please pass the answer on.")  # fmt: skip
            plan.method = DeliveryMethod.NOTE
        notification.delivered_at = datetime.now(UTC)
        notification.delivery_method = plan.method
    log.info("notification.delivered", notification_id=notification_id, method=plan.method)
    return plan


def _delivery_facts(notification_id: int) -> _Facts | None:
    with session_scope() as session:
        notification = session.get(Notification, notification_id)
        if (
            notification is None
            or notification.status != NotificationStatus.ANSWERED
            or notification.delivered_at is not None
        ):
            return None
        kind = kind_of(notification.type)
        _, customer, phone = conversation_parties(session, notification.conversation_id)
        merchant = session.get(Merchant, phone.merchant_id)
        assert merchant is not None and notification.answer is not None
        texts = session.scalars(
            select(Message.text)
            .where(
                Message.conversation_id == notification.conversation_id,
                Message.direction == Direction.INBOUND,
                Message.text.is_not(None),
            )
            .order_by(Message.id.desc())
            .limit(5)
        ).all()
        question = notification.context.get("question")
        return _Facts(
            text=str(notification.answer[kind.customer_text_field]),
            merchant_name=merchant.name,
            customer_texts=[t for t in reversed(texts) if t is not None],
            language=customer.language or merchant.default_language,
            lead_in=f'About your question "{question}": ' if question
            else "About your support request: ",
        )  # fmt: skip


def closure_notices(notification_id: int) -> list[int]:
    """Tell the other staff asked that it is closed, in their language: a message inside
    their 24-hour window, else the `notification_closed` template. Returns the outbox ids
    to send."""
    send: list[int] = []
    with session_scope() as session:
        notification = session.get(Notification, notification_id)
        if (
            notification is None
            or notification.status != NotificationStatus.ANSWERED
            or notification.allow_multiple_answers
        ):
            return send
        pending = session.scalars(
            select(NotificationRecipient)
            .where(
                NotificationRecipient.notification_id == notification_id,
                NotificationRecipient.closed_message_id.is_(None),
            )
            .with_for_update(skip_locked=True)
        ).all()
        for recipient in pending:
            if recipient.merchant_user_id == notification.answered_by_user_id:
                continue
            recipient.closed_message_id = _closed_notice(session, notification, recipient)
            send.append(recipient.closed_message_id)
    return send


def _closed_notice(
    session: Session, notification: Notification, recipient: NotificationRecipient
) -> int:
    conversation = lock(session, recipient.conversation_id)
    _, staff, phone = conversation_parties(session, conversation.id)
    merchant = session.get(Merchant, phone.merchant_id)
    assert merchant is not None
    language = staff.language or merchant.default_language
    if within_service_window(conversation):
        text = closed_notice(ref(notification.id), language)
        return enqueue_message(
            session, conversation_id=conversation.id, text=text, author=Author.SYSTEM
        )
    return templates.enqueue_template(
        session, conversation_id=conversation.id, role=TemplateRole.NOTIFICATION_CLOSED,
        language=language, values={"notification_id": ref(notification.id)},
        merchant_id=merchant.id,
    )  # fmt: skip


def dispatch(notification_id: int) -> list[int]:
    """Route and write the staff messages; return the outbox ids to send (after commit)."""
    route = _route_if_needed(notification_id)
    translation = _translation_if_needed(notification_id)
    with session_scope() as session:
        notification = session.get(Notification, notification_id, with_for_update=True)
        if notification is None:
            return []
        if notification.dispatched_at is None:
            if translation:
                notification.context = {**notification.context, "translation": translation}
            dispatch_locked(session, notification, route)
        return unsent_requests(session, notification_id)


def _route_if_needed(notification_id: int) -> Route | None:
    """Classify a support request (a model call, made outside any transaction)."""
    with session_scope() as session:
        notification = session.get(Notification, notification_id)
        if (
            notification is None
            or notification.dispatched_at is not None
            or notification.target_user_type is not None
            or kind_of(notification.type).notification_type != NotificationType.USER_SUPPORT_REQUEST
        ):
            return None
        reason = str(notification.context.get("support_request_reason", ""))
        guides = [
            (doc.title, doc.content)
            for doc in knowledge.classification_documents(session, notification.merchant_id)
        ]
        staff_types = set(
            session.scalars(
                select(MerchantUser.type).where(
                    MerchantUser.merchant_id == notification.merchant_id
                )
            )
        )
    return classify(reason, guides, staff_types)


def _translation_if_needed(notification_id: int) -> str | None:
    """What the customer asked, in the merchant's language, when they wrote in another (a
    model call, made outside any transaction)."""
    with session_scope() as session:
        notification = session.get(Notification, notification_id)
        if notification is None or notification.dispatched_at is not None:
            return None
        asked = asked_text(notification)
        _, customer, phone = conversation_parties(session, notification.conversation_id)
        merchant = session.get(Merchant, phone.merchant_id)
        assert merchant is not None
        target = merchant.default_language
        if not asked or not needs_translation(asked, customer.language, target):
            return None
    return translate(asked, target)


# --- knowledge drafts from answers -----------------------------------------------

_INSTRUCTION = """You keep the knowledge base of {merchant}, which its AI assistant uses to
answer every customer. A customer asked the team a question, and the team answered that
customer. Decide whether the answer states a lasting, public fact about the business that
any customer may be told: a policy, opening hours, prices, shipping or payment options, a
product's properties.
It does not when it is about this customer's own order, delivery, account, payment,
address, booking or situation, or when it is temporary: then set reusable to false and
leave title and content empty.
When it does, write in {language}:
- title: the general question any customer could ask (no names, no numbers of one order);
- content: only the public facts, as a neutral statement, without names, order or tracking
  numbers, addresses, phone numbers, emails, or dates and amounts that concern one customer."""


class KnowledgeDraft(BaseModel):
    reusable: bool = Field(description="true only for a lasting fact any customer may be told")
    title: str = Field(description="a general question, no personal details; empty if not reusable")
    content: str = Field(description="the public facts only; empty if not reusable")


@dataclass(frozen=True)
class _AnsweredQuestion:
    notification_id: int
    merchant_id: int
    merchant_name: str
    language: str
    question: str
    answer: str
    customer_names: tuple[str | None, ...]


def draft_from_answer(notification_id: int) -> int | None:
    """Draft the answered question's lasting public facts; the draft's id, or None when
    the answer holds none (or no model is configured). Running it twice drafts once."""
    answered = _answered_question(notification_id)
    if not isinstance(answered, _AnsweredQuestion):
        return answered
    draft = _extract(answered)
    if draft is None:
        return None
    with session_scope() as session:
        notification = session.get(Notification, notification_id, with_for_update=True)
        if notification is None or notification.document_id is not None:
            return notification.document_id if notification else None
        document = knowledge.create_document(
            session,
            merchant_id=answered.merchant_id,
            category=knowledge.USER_QUESTION,
            title=draft.title[: knowledge.TITLE_MAX],
            content=draft.content,
            language=answered.language,
            status=DocumentStatus.DRAFT,
            review_note=(
                f"Drafted by the AI from the team's answer to {ref(notification_id)}. Check "
                "that it is a lasting public fact with no personal detail, then publish it."
            ),
        )
        notification.document_id = document.id
        KNOWLEDGE_DRAFTS.labels("drafted").inc()
        log.info("knowledge.draft.created", notification_id=notification_id)
        return document.id


def _answered_question(notification_id: int) -> _AnsweredQuestion | int | None:
    """What the model needs; or the draft already made (an id), or None: nothing to do."""
    with session_scope() as session:
        notification = session.get(Notification, notification_id)
        if notification is None or notification.document_id is not None:
            return notification.document_id if notification else None
        if (
            notification.type != NotificationType.USER_QUESTION_REQUEST
            or notification.status != NotificationStatus.ANSWERED
        ):
            return None
        merchant = session.get(Merchant, notification.merchant_id)
        conversation = session.get(Conversation, notification.conversation_id)
        customer = session.get(Customer, conversation.customer_id) if conversation else None
        assert merchant is not None
        return _AnsweredQuestion(
            notification_id=notification.id,
            merchant_id=merchant.id,
            merchant_name=merchant.name,
            language=merchant.default_language,
            question=str(notification.context.get("question", "")),
            answer=str((notification.answer or {}).get("answer", "")),
            customer_names=(
                (customer.profile_name, notification.context.get("customer_name"))
                if customer
                else ()
            ),
        )


def _extract(answered: _AnsweredQuestion) -> KnowledgeDraft | None:
    system = _INSTRUCTION.format(merchant=answered.merchant_name, language=answered.language)
    prompt = (
        f"The customer's question:\n{answered.question}\n\nThe team's answer:\n{answered.answer}"
    )
    try:
        model = build_structured_model(get_settings(), KnowledgeDraft)
        draft = model.invoke([SystemMessage(system), HumanMessage(prompt)], config=METERED)
    except LLMNotConfigured:
        KNOWLEDGE_DRAFTS.labels("no_model").inc()
        return None
    except Exception as exc:  # a draft is a suggestion; the answer itself is delivered
        KNOWLEDGE_DRAFTS.labels("failed").inc()
        log.warning("knowledge.draft.failed", error=type(exc).__name__)
        return None
    assert isinstance(draft, KnowledgeDraft)
    if not draft.reusable or not draft.title.strip() or not draft.content.strip():
        KNOWLEDGE_DRAFTS.labels("not_reusable").inc()
        return None
    found = find_personal_data(f"{draft.title}\n{draft.content}", names=answered.customer_names)
    if found:
        KNOWLEDGE_DRAFTS.labels("personal_data").inc()
        log.info("knowledge.draft.personal_data", kinds=found)
        return None
    return draft
