"""Sending the survey when a conversation is resolved: a list of 1-5 inside the customer's
24 h window, the `csat_survey` template outside it; once per conversation per
CSAT_COOLDOWN_DAYS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from observability.logs import get_logger
from persistence import jobs
from persistence.models import (
    AuditEvent,
    Author,
    Conversation,
    CsatResponse,
    Direction,
    Merchant,
    Message,
)
from services.access.auth import Principal
from services.conversations.conversation import conversation_parties
from services.conversations.window import within_service_window
from services.csat import wording
from services.interactive.offer import offer_with_list
from services.interactive.service import enqueue_offer
from services.templates.templates import TemplateRole, enqueue_template
from settings import get_settings

# who may have answered the customer: a survey asks how that went
ANSWER_AUTHORS = (Author.AI, Author.AUTO_ANSWER, Author.OPERATOR, Author.BUSINESS_APP)

log = get_logger(__name__)

SEND_SURVEY = "switchboard.csat.send"


def offer_survey(session: Session, conversation: Conversation, principal: Principal | None) -> None:
    """Queue the survey for a conversation just resolved (sent after commit), unless CSAT is
    off, the customer never wrote, nobody answered them, or a survey went out within the
    cooldown."""
    settings = get_settings()
    if not settings.csat_enabled or conversation.last_inbound_at is None:
        return
    if not _we_answered(session, conversation.id):
        return  # nothing to rate (a stale replay set aside, a message nobody got to)
    since = datetime.now(UTC) - timedelta(days=settings.csat_cooldown_days)
    recent = exists().where(
        CsatResponse.conversation_id == conversation.id, CsatResponse.created_at > since
    )
    if session.scalar(select(recent)):
        return
    _, customer, phone = conversation_parties(session, conversation.id)
    merchant = session.get(Merchant, phone.merchant_id)
    assert merchant is not None
    language = customer.language or merchant.default_language
    if within_service_window(conversation):
        offer = offer_with_list(
            wording.question(language), wording.list_label(language),
            [("", wording.score_rows(language))],
        )  # fmt: skip
        message_id = enqueue_offer(
            session, conversation_id=conversation.id, offer=offer, author=Author.SYSTEM,
            raw={"csat": True},
        ).id  # fmt: skip
    else:
        message_id = enqueue_template(
            session, conversation_id=conversation.id, role=TemplateRole.CSAT_SURVEY,
            language=language, values={"merchant_name": merchant.name}, merchant_id=merchant.id,
        )  # fmt: skip
    session.add(
        CsatResponse(
            conversation_id=conversation.id,
            merchant_id=merchant.id,
            operator_id=principal.operator_id if principal else None,
            ai_only=not _people_took_part(session, conversation.id),
        )
    )
    jobs.enqueue(session, SEND_SURVEY, message_id)
    log.info("csat.survey.queued", conversation_id=conversation.id, message_id=message_id)


def _we_answered(session: Session, conversation_id: int) -> bool:
    """The AI, the knowledge base or a person wrote to the customer in this conversation."""
    answered = exists().where(
        Message.conversation_id == conversation_id,
        Message.direction == Direction.OUTBOUND,
        Message.author.in_(ANSWER_AUTHORS),
    )
    return bool(session.scalar(select(answered)))


def _people_took_part(session: Session, conversation_id: int) -> bool:
    """An operator wrote to the customer in this conversation, or took it over."""
    wrote = exists().where(
        Message.conversation_id == conversation_id,
        Message.direction == Direction.OUTBOUND,
        Message.author == Author.OPERATOR,
    )
    took_over = exists().where(
        AuditEvent.conversation_id == conversation_id, AuditEvent.action == "takeover"
    )
    return bool(session.scalar(select(wrote | took_over)))
