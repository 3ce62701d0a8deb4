"""Response bodies that say who a conversation is with: customers, and conversations with
their customer, channel and last message."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from api.desk_schemas import NoteRead
from api.schemas import AuditEventRead, ConversationRead, MessageRead
from persistence.models import Customer
from services.conversations.listing import ConversationSummary
from services.customers.customer import CustomerActivity


class CustomerRef(BaseModel):
    """Who the customer is: phone-based `wa_id` and/or business-scoped `user_id`, the
    WhatsApp `username` and profile `name` when WhatsApp sent them."""

    id: int
    wa_id: str | None
    user_id: str | None
    username: str | None
    name: str | None

    @classmethod
    def of(cls, customer: Customer) -> CustomerRef:
        return cls(
            id=customer.id, wa_id=customer.wa_id, user_id=customer.user_id,
            username=customer.username, name=customer.profile_name,
        )  # fmt: skip


class LastMessageRead(BaseModel):
    text: str  # a preview: the first 140 characters, or [type] for media
    at: datetime
    direction: str  # in | out
    author: str  # customer | ai | auto_answer | holding | operator | system


class ConversationListItem(ConversationRead):
    channel: str
    customer: CustomerRef
    last_message: LastMessageRead | None
    unanswered: int  # customer messages since the last message that reached them

    @classmethod
    def of(cls, summary: ConversationSummary) -> ConversationListItem:
        last = summary.last_message
        return cls(
            **ConversationRead.model_validate(summary.conversation).model_dump(),
            channel=summary.channel,
            customer=CustomerRef.of(summary.customer),
            last_message=LastMessageRead(**vars(last)) if last else None,
            unanswered=summary.unanswered,
        )


class ConversationDetail(ConversationListItem):
    messages: list[MessageRead]
    audit: list[AuditEventRead]
    notes: list[NoteRead]  # private: never sent to the customer


class CustomerConversationRead(BaseModel):
    id: int
    last_activity: datetime | None


class CustomerRead(CustomerRef):
    merchant_id: int
    language: str | None
    created_at: datetime
    last_activity: datetime | None
    conversations: list[CustomerConversationRead]

    @classmethod
    def from_activity(cls, found: CustomerActivity) -> CustomerRead:
        return cls(
            **CustomerRef.of(found.customer).model_dump(),
            merchant_id=found.customer.merchant_id,
            language=found.customer.language,
            created_at=found.customer.created_at,
            last_activity=found.last_activity,
            conversations=[
                CustomerConversationRead(id=i, last_activity=at) for i, at in found.conversations
            ],
        )
