"""The operators' inbox: conversations with who they are with, what was said last, and how
long the customer has been waiting.

"Unanswered" counts the customer's messages since the last message that reached them (from
the AI or an operator): the work an operator sees waiting, without per-person read state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import ColumnElement, Subquery, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from persistence.models import (
    ChannelType,
    Conversation,
    ConversationMode,
    Customer,
    DeliveryStatus,
    Direction,
    Merchant,
    MerchantUser,
    Message,
    PhoneNumber,
)
from services.conversations.search import ConversationFilter, filtered, searched

InboxView = Literal["all", "needs_human", "operator", "ai"]
VIEWS: tuple[InboxView, ...] = ("all", "needs_human", "operator", "ai")
# how operators call each channel account type (the inbox's badge and filter)
CHANNEL_LABELS: dict[str, str] = {
    ChannelType.WHATSAPP_CLOUD: "WhatsApp",
    ChannelType.TWILIO_WHATSAPP: "Twilio",
    ChannelType.INSTAGRAM: "Instagram",
}


@dataclass(frozen=True)
class InboxRow:
    conversation_id: int
    customer_name: str
    customer_id_text: str  # +wa_id (else the business-scoped user id) and @username
    is_staff: bool  # an admin conversation: the customer is one of the merchant's users
    merchant_id: int
    merchant_name: str
    mode: str
    needs_human: bool
    needs_human_reason: str | None
    assigned_to: str | None
    labels: list[str]
    priority: str
    desk_status: str  # open | pending | resolved
    last_text: str | None
    last_at: datetime | None
    last_author: str | None
    unanswered: int
    waiting_since: datetime | None
    channel: str  # the channel account's type (ChannelType)

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.channel, self.channel)

    @property
    def status(self) -> InboxView:
        """The one view besides "all" that holds this conversation."""
        if self.mode == ConversationMode.OPERATOR:
            return "operator"
        return "needs_human" if self.needs_human else "ai"

    @property
    def waiting_seconds(self) -> float | None:
        if self.waiting_since is None:
            return None
        return max(0.0, (datetime.now(UTC) - self.waiting_since).total_seconds())


def waiting_for_a_person() -> ColumnElement[bool]:
    """Flagged and not taken over: the escalations nobody has picked up."""
    return and_(Conversation.mode == ConversationMode.AI, Conversation.needs_human.is_(True))


def view_filter(view: InboxView) -> ColumnElement[bool] | None:
    """The views other than "all" split the conversations: each is in exactly one, the one
    its `InboxRow.status` names (a taken-over conversation is the operator's even if it was
    flagged; a flagged one is not the AI's, which stays quiet)."""
    if view == "needs_human":
        return waiting_for_a_person()
    if view == "operator":
        return Conversation.mode == ConversationMode.OPERATOR
    if view == "ai":
        return and_(Conversation.mode == ConversationMode.AI, Conversation.needs_human.is_(False))
    return None


def _visible() -> ColumnElement[bool]:
    """Messages that are part of the exchange with the customer (no notes, nothing dropped)."""
    return and_(
        Message.direction != Direction.NOTE,
        Message.status != DeliveryStatus.DROPPED,
    )


def unanswered_subquery() -> Subquery:
    """Per conversation: how many customer messages came since the last message that
    reached them (`unanswered`), and since when the oldest of them waits (`since`)."""
    last_out = (
        select(Message.conversation_id, func.max(Message.id).label("last_out_id"))
        .where(Message.direction == Direction.OUTBOUND, Message.status != DeliveryStatus.DROPPED)
        .group_by(Message.conversation_id)
        .subquery()
    )
    return (
        select(
            Message.conversation_id,
            func.count().label("unanswered"),
            func.min(func.coalesce(Message.wa_timestamp, Message.created_at)).label("since"),
        )
        .outerjoin(last_out, last_out.c.conversation_id == Message.conversation_id)
        .where(
            Message.direction == Direction.INBOUND,
            Message.type != "reaction",
            Message.id > func.coalesce(last_out.c.last_out_id, 0),
        )
        .group_by(Message.conversation_id)
        .subquery()
    )


def last_message_subquery() -> Subquery:
    """Per conversation: the id of its last visible message (`last_id`)."""
    return (
        select(Message.conversation_id, func.max(Message.id).label("last_id"))
        .where(_visible())
        .group_by(Message.conversation_id)
        .subquery()
    )


def inbox(
    session: Session,
    *,
    view: InboxView = "all",
    merchant_id: int | None = None,
    filters: ConversationFilter | None = None,
    limit: int = 100,
) -> list[InboxRow]:
    """Conversations, the most recently active first; `filters` narrow them (the desk's
    tabs, a label, a search)."""
    waiting = unanswered_subquery()
    last_id = last_message_subquery()
    last = aliased(Message)
    staff = aliased(MerchantUser)
    stmt = (
        select(Conversation, Customer, Merchant, last, waiting.c.unanswered, waiting.c.since,
               staff.id.label("staff_id"), PhoneNumber.type)
        .join(Customer, Customer.id == Conversation.customer_id)
        .join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id)
        .join(Merchant, Merchant.id == PhoneNumber.merchant_id)
        .outerjoin(last_id, last_id.c.conversation_id == Conversation.id)
        .outerjoin(last, last.id == last_id.c.last_id)
        .outerjoin(waiting, waiting.c.conversation_id == Conversation.id)
        .outerjoin(
            staff,
            and_(
                staff.merchant_id == Merchant.id,
                or_(
                    and_(staff.wa_id.is_not(None), staff.wa_id == Customer.wa_id),
                    and_(staff.user_id.is_not(None), staff.user_id == Customer.user_id),
                ),
            ),
        )
        .order_by(last_id.c.last_id.desc().nulls_last(), Conversation.id.desc())
        .limit(limit)
    )  # fmt: skip
    condition = view_filter(view)
    if condition is not None:
        stmt = stmt.where(condition)
    if merchant_id is not None:
        stmt = stmt.where(Merchant.id == merchant_id)
    if filters is not None:
        stmt = filtered(stmt, filters)
        stmt = searched(stmt, filters.q) if filters.q else stmt
    rows: dict[int, InboxRow] = {}
    for conversation, customer, merchant, message, unanswered, since, staff_id, channel in (
        session.execute(stmt)
    ):
        rows.setdefault(
            conversation.id,
            _row(conversation, customer, merchant, message, unanswered, since, staff_id, channel),
        )
    return list(rows.values())


def _row(
    conversation: Conversation,
    customer: Customer,
    merchant: Merchant,
    last: Message | None,
    unanswered: int | None,
    since: datetime | None,
    staff_id: int | None,
    channel: str,
) -> InboxRow:
    return InboxRow(
        conversation_id=conversation.id,
        customer_name=customer.profile_name or customer.username or customer.wa_id
        or customer.user_id or "?",
        customer_id_text=identity_text(customer),
        is_staff=staff_id is not None,
        merchant_id=merchant.id,
        merchant_name=merchant.name,
        mode=str(conversation.mode),
        needs_human=conversation.needs_human,
        needs_human_reason=conversation.needs_human_reason,
        assigned_to=conversation.assigned_to,
        labels=list(conversation.labels or []),
        priority=str(conversation.priority),
        desk_status=str(conversation.status),
        last_text=message_preview(last) if last else None,
        last_at=(last.wa_timestamp or last.created_at) if last else None,
        last_author=str(last.author) if last else None,
        unanswered=unanswered or 0,
        waiting_since=since if unanswered else None,
        channel=str(channel),
    )


def identity_text(customer: Customer) -> str:
    """How operators recognise the customer besides their name: "+number · @username", or
    the business-scoped user id when there is no number."""
    parts = [f"+{customer.wa_id}" if customer.wa_id else customer.user_id or ""]
    if customer.username:
        parts.append(f"@{customer.username}")
    return " · ".join(p for p in parts if p)


def message_preview(message: Message) -> str:
    if message.text:
        return message.text[:140]
    if message.transcript:
        return f"🎤 {message.transcript[:130]}"
    return f"[{message.type}]"


def view_counts(session: Session, *, merchant_id: int | None = None) -> dict[str, int]:
    """How many conversations each inbox view holds."""
    counts: dict[str, int] = {}
    for view in VIEWS:
        stmt = select(func.count(Conversation.id))
        if merchant_id is not None:
            stmt = stmt.join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id).where(
                PhoneNumber.merchant_id == merchant_id
            )
        condition = view_filter(view)
        if condition is not None:
            stmt = stmt.where(condition)
        counts[view] = session.scalar(stmt) or 0
    return counts
