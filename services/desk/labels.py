"""Labels on conversations: short normalised words, per merchant."""

from __future__ import annotations

import re

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from persistence.models import Conversation, PhoneNumber
from services.access.auth import Principal
from services.conversations import audit
from services.conversations.conversation import lock_conversation
from services.errors import InvalidInput

MAX_LABELS = 20
MAX_LENGTH = 40
_ALLOWED = re.compile(r"^[\w][\w .&/-]*$")


def normalise(label: str) -> str:
    """Trimmed, lowercase, single spaces: "  VIP  Customer" -> "vip customer"."""
    cleaned = " ".join(label.split()).lower()
    if not cleaned or len(cleaned) > MAX_LENGTH or not _ALLOWED.match(cleaned):
        raise InvalidInput(
            f"invalid label {label[:60]!r}: 1 to {MAX_LENGTH} letters, digits, spaces or . & / - _"
        )
    return cleaned


def set_labels(
    session: Session, conversation_id: int, labels: list[str], principal: Principal | None
) -> Conversation:
    wanted = sorted({normalise(label) for label in labels})
    if len(wanted) > MAX_LABELS:
        raise InvalidInput(f"at most {MAX_LABELS} labels per conversation")
    conversation = lock_conversation(session, conversation_id)
    if wanted != list(conversation.labels or []):
        audit.record(session, conversation_id=conversation_id, action="labels",
                     principal=principal, detail={"labels": wanted})  # fmt: skip
        conversation.labels = wanted
    return conversation


def merchant_labels(session: Session, *, merchant_id: int | None) -> list[tuple[str, int]]:
    """Labels in use with their conversation counts, most used first."""
    label = func.jsonb_array_elements_text(Conversation.labels).table_valued("value")
    stmt = select(label.c.value, func.count()).select_from(Conversation).join(label, literal(True))
    if merchant_id is not None:
        stmt = stmt.join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id).where(
            PhoneNumber.merchant_id == merchant_id
        )
    stmt = stmt.group_by(label.c.value).order_by(func.count().desc(), label.c.value)
    return [(value, count) for value, count in session.execute(stmt)]
