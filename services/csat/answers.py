"""The customer's answer to a survey, read in ingest before any turn: a tapped row or a
typed 1-5 is the score (thanked, asking for a comment); the next free text within
CSAT_COMMENT_MINUTES is the comment. Neither reopens the conversation nor reaches the AI;
anything else is an ordinary message."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.webhook import choice_of
from observability.logs import get_logger
from persistence import jobs
from persistence.models import (
    Author,
    Conversation,
    ConversationStatus,
    CsatResponse,
    Merchant,
    Message,
)
from services.conversations.conversation import conversation_parties
from services.csat import wording
from services.csat.survey import SEND_SURVEY
from services.outbound import add_outbound
from settings import get_settings

log = get_logger(__name__)

_DIGIT = re.compile(r"^\s*([1-5])\s*[.)!]?\s*$")


def may_answer(status: str) -> bool:
    """Whether a conversation in this status can have a survey awaiting an answer."""
    return status == ConversationStatus.RESOLVED


def take_answer(session: Session, conversation: Conversation, message: Message) -> bool:
    """Whether `message` answered the conversation's survey (score or comment) and was
    stored as such; False: handle it as usual."""
    if not may_answer(conversation.status):
        return False
    survey = session.scalars(
        select(CsatResponse)
        .where(CsatResponse.conversation_id == conversation.id)
        .order_by(CsatResponse.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if survey is None:
        return False
    now = datetime.now(UTC)
    if survey.score is None:
        score = score_of(message)
        if score is None:
            return False
        survey.score, survey.answered_at = score, now
        _thank(session, conversation)
        log.info("csat.scored", conversation_id=conversation.id, score=score)
        return True
    window = timedelta(minutes=get_settings().csat_comment_minutes)
    fresh = survey.answered_at is not None and now - survey.answered_at < window
    if survey.comment is None and fresh and message.type == "text" and message.text:
        survey.comment = message.text.strip()[:2000]
        log.info("csat.commented", conversation_id=conversation.id)
        return True
    return False


def score_of(message: Message) -> int | None:
    """1-5 from a tapped survey row, or from a typed digit."""
    if message.type in ("interactive", "button"):
        choice = choice_of(message.raw)
        if choice is None:
            return None
        picked = choice.id.removeprefix(wording.OPTION_PREFIX)
        match = _DIGIT.match(picked) or _DIGIT.match(choice.title[:1])
        return int(match.group(1)) if match else None
    match = _DIGIT.match(message.text or "") if message.type == "text" else None
    return int(match.group(1)) if match else None


def _thank(session: Session, conversation: Conversation) -> None:
    _, customer, phone = conversation_parties(session, conversation.id)
    merchant = session.get(Merchant, phone.merchant_id)
    language = customer.language or (merchant.default_language if merchant else None)
    thanks = add_outbound(
        session, conversation_id=conversation.id, author=Author.SYSTEM, type="text",
        text=wording.thanks(language), turn_id=None, seq=0, raw={"csat": "thanks"},
    )  # fmt: skip
    jobs.enqueue(session, SEND_SURVEY, thanks.id)
