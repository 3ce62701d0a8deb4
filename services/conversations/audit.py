"""Who did what to a conversation, and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import AuditEvent
from services.access.auth import Principal


def record(
    session: Session,
    *,
    conversation_id: int | None,
    action: str,
    principal: Principal | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        conversation_id=conversation_id,
        operator_id=principal.operator_id if principal else None,
        actor=principal.name if principal else "system",
        action=action,
        detail=detail or {},
    )
    session.add(event)
    session.flush()
    return event


def trail(session: Session, conversation_id: int) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.conversation_id == conversation_id)
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(stmt))
