"""What operators see of notifications: each one with its customer, merchant, the staff
asked (and whether their request reached them), and who answered when.

Reads only: opening and answering live in services.notifications.notifications and
services.notifications.answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from persistence.models import (
    Conversation,
    Customer,
    Merchant,
    MerchantUser,
    Message,
    Notification,
    NotificationRecipient,
    NotificationStatus,
)
from services.notifications.kinds import kind_of
from services.notifications.notifications import RecipientView, list_notifications, ref


@dataclass(frozen=True)
class NotificationRow:
    id: int
    ref: str
    type: str
    title: str  # how people read the type: "question", "support request"
    status: str
    asked: str  # the question, or why the customer needs support
    support_request_type: str | None  # what routing made of a support request
    customer_field: str  # the answer field that reaches the customer; the others stay internal
    merchant_id: int
    merchant_name: str
    conversation_id: int
    customer_name: str
    customer_id_text: str
    created_at: datetime
    answered_at: datetime | None
    answered_by: str | None
    claimed_by: str | None  # who tapped "I'll answer": colleagues see it is being handled
    claimed_at: datetime | None
    answer: dict[str, Any] | None
    delivered_at: datetime | None
    delivery_method: str | None
    error: str | None
    recipients: tuple[RecipientView, ...]

    @property
    def is_open(self) -> bool:
        return self.status == NotificationStatus.REQUESTED

    @property
    def waiting_seconds(self) -> float:
        """How long it has waited for staff (until its answer, once answered)."""
        end = self.answered_at or datetime.now(UTC)
        return max(0.0, (end - self.created_at).total_seconds())


def notification_rows(
    session: Session,
    *,
    merchant_id: int | None = None,
    status: str | None = None,
    notification_type: str | None = None,
    limit: int = 100,
) -> list[NotificationRow]:
    """Notifications, newest first, ready to show."""
    found = list_notifications(
        session, merchant_id=merchant_id, status=status,
        notification_type=notification_type, limit=limit,
    )  # fmt: skip
    return rows_of(session, found)


def rows_of(session: Session, found: Sequence[Notification]) -> list[NotificationRow]:
    if not found:
        return []
    conversation_ids = {n.conversation_id for n in found}
    customers = dict(
        session.execute(
            select(Conversation.id, Customer)
            .join(Customer, Customer.id == Conversation.customer_id)
            .where(Conversation.id.in_(conversation_ids))
        ).all()
    )
    merchants = {
        m.id: m
        for m in session.scalars(
            select(Merchant).where(Merchant.id.in_({n.merchant_id for n in found}))
        )
    }
    recipients = _recipients(session, [n.id for n in found])
    return [
        _row(n, customers[n.conversation_id], merchants[n.merchant_id], recipients.get(n.id, []))
        for n in found
    ]


def status_counts(
    session: Session, *, merchant_id: int | None = None, notification_type: str | None = None
) -> dict[str, int]:
    """How many notifications wait for staff and how many are answered."""
    stmt = select(Notification.status, func.count()).group_by(Notification.status)
    if merchant_id is not None:
        stmt = stmt.where(Notification.merchant_id == merchant_id)
    if notification_type:
        stmt = stmt.where(Notification.type == kind_of(notification_type).notification_type.value)
    counts = {str(status): n for status, n in session.execute(stmt).tuples()}
    return {s.value: counts.get(s.value, 0) for s in NotificationStatus}


def asked_by_document(session: Session, document_ids: Sequence[int]) -> dict[int, int]:
    """The notification each customer-question document was created for."""
    if not document_ids:
        return {}
    stmt = select(Notification.document_id, Notification.id).where(
        Notification.document_id.in_(document_ids)
    )
    return {document_id: n for document_id, n in session.execute(stmt).tuples() if document_id}


def _recipients(session: Session, notification_ids: list[int]) -> dict[int, list[RecipientView]]:
    stmt = (
        select(NotificationRecipient, MerchantUser, Message.status)
        .join(MerchantUser, MerchantUser.id == NotificationRecipient.merchant_user_id)
        .outerjoin(Message, Message.id == NotificationRecipient.request_message_id)
        .where(NotificationRecipient.notification_id.in_(notification_ids))
        .order_by(NotificationRecipient.id)
    )
    found: dict[int, list[RecipientView]] = {}
    for recipient, user, status in session.execute(stmt).tuples():
        found.setdefault(recipient.notification_id, []).append(
            RecipientView(
                merchant_user_id=user.id,
                name=user.name,
                type=user.type,
                conversation_id=recipient.conversation_id,
                request_message_id=recipient.request_message_id,
                request_status=str(status) if status else None,
            )
        )
    return found


def _row(
    notification: Notification,
    customer: Customer,
    merchant: Merchant,
    recipients: list[RecipientView],
) -> NotificationRow:
    kind = kind_of(notification.type)
    context = notification.context or {}
    return NotificationRow(
        id=notification.id,
        ref=ref(notification.id),
        type=kind.notification_type.value,
        title=kind.title,
        status=str(notification.status),
        asked=" ".join(str(context.get(name, "")) for name in kind.requested_fields).strip(),
        support_request_type=context.get("support_request_type"),
        customer_field=kind.customer_text_field,
        merchant_id=merchant.id,
        merchant_name=merchant.name,
        conversation_id=notification.conversation_id,
        customer_name=customer.profile_name or customer.wa_id or customer.user_id or "?",
        customer_id_text=customer.wa_id or customer.user_id or "",
        created_at=notification.created_at,
        answered_at=notification.answered_at,
        answered_by=notification.answered_by,
        claimed_by=notification.claimed_by,
        claimed_at=notification.claimed_at,
        answer=notification.answer,
        delivered_at=notification.delivered_at,
        delivery_method=notification.delivery_method,
        error=notification.error,
        recipients=tuple(recipients),
    )
