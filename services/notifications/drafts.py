"""Growing the knowledge base from the team's answers, without leaking what one customer
was told to the next.

An answer to a customer's question reaches that customer only (notification_answers). It
becomes knowledge only as a draft that a small model writes of the lasting, public facts it
holds ("Do you ship to Canada?" / "Yes, in 5 to 7 working days"), which a person reviews and
publishes. Answers about one customer's order, account or situation give no draft; a draft
that still looks personal (an order or tracking number, an address, the customer's name) is
dropped in code, whatever the model said; and publishing checks it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from graph.llm import METERED, LLMNotConfigured, build_structured_model
from observability.logs import get_logger
from observability.metrics import KNOWLEDGE_DRAFTS
from persistence.db import session_scope
from persistence.models import (
    Conversation,
    Customer,
    DocumentStatus,
    Merchant,
    Notification,
    NotificationStatus,
)
from services.knowledge import knowledge
from services.knowledge.personal_data import find_personal_data
from services.notifications.kinds import NotificationType
from services.notifications.notifications import ref
from settings import get_settings

log = get_logger(__name__)

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
