"""Console presence: an operator is online while a console page of theirs reports in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from persistence.models import Operator
from settings import get_settings

# A page reports in more often than this; fewer writes than one per request.
_REFRESH = timedelta(seconds=15)


def seen(session: Session, operator_id: int | None, *, now: datetime | None = None) -> None:
    """Record that the operator has a console page open (no-op for the admin token)."""
    if operator_id is None:
        return
    now = now or datetime.now(UTC)
    session.execute(
        update(Operator)
        .where(Operator.id == operator_id)
        .where((Operator.last_seen_at.is_(None)) | (Operator.last_seen_at < now - _REFRESH))
        .values(last_seen_at=now)
    )


def online_operators(session: Session, *, now: datetime, merchant_id: int) -> list[Operator]:
    """Operators who may answer the merchant's customers (its own, and platform-wide ones
    without a merchant), seen within OPERATOR_ONLINE_SECONDS, whose turn for a conversation
    is oldest first (the round-robin's order). Another merchant's operator could not even
    open the conversation."""
    since = now - timedelta(seconds=get_settings().operator_online_seconds)
    stmt = (
        select(Operator)
        .where(
            or_(Operator.merchant_id == merchant_id, Operator.merchant_id.is_(None)),
            Operator.revoked_at.is_(None),
            Operator.last_seen_at >= since,
        )
        .order_by(Operator.last_assigned_at.asc().nulls_first(), Operator.id)
    )
    return list(session.scalars(stmt))


def offline(*, now: datetime) -> ColumnElement[bool]:
    """Operators without presence for OPERATOR_OFFLINE_SECONDS."""
    since = now - timedelta(seconds=get_settings().operator_offline_seconds)
    return Operator.last_seen_at.is_(None) | (Operator.last_seen_at < since)
