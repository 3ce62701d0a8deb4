"""What a turn reads of its conversation and merchant before the graph runs: one statement
where each was a round trip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import Session

from persistence.models import Conversation, Customer, Merchant, MerchantUser, PhoneNumber
from services.commerce.queries import has_store
from services.conversations.conversation import Parties
from services.errors import NotFound
from services.media.library import library_summary_array
from services.merchants.merchant import is_staff_identity
from services.notifications.notifications import pending_question_arrays
from services.parking.parking import releasing


@dataclass(frozen=True)
class TurnStart:
    parties: Parties
    merchant: Merchant
    staff: MerchantUser | None  # the customer is one of the merchant's staff (find_merchant_user)
    store_connected: bool
    releasing: bool  # released messages wait to be sent (release_in_progress)
    # pending_questions: each question, and when it was asked, oldest first
    questions: tuple[tuple[str, datetime], ...]
    media_library: tuple[tuple[str, str, str], ...]  # library_summary


def read_turn_start(session: Session, conversation_id: int) -> TurnStart:
    """conversation_parties, the merchant, find_merchant_user, whether a store is connected,
    release_in_progress, pending_questions and library_summary, in one statement."""
    row = session.execute(_start_statement(), {"conversation_id": conversation_id}).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    conversation, customer, phone, merchant, staff, store, released, asked, at, media = row
    return TurnStart(
        parties=(conversation, customer, phone), merchant=merchant, staff=staff,
        store_connected=bool(store), releasing=bool(released),
        questions=tuple(zip((q or "" for q in asked or ()), at or (), strict=True)),
        media_library=tuple((key, kind, caption) for key, kind, caption in media or ()),
    )  # fmt: skip


@cache
def _start_statement() -> Select[
    Conversation, Customer, PhoneNumber, Merchant, MerchantUser | None, bool, bool,
    list[str | None], list[datetime], list[list[str]],
]:  # fmt: skip
    """read_turn_start's statement, built once and bound per turn."""
    conversation_id = bindparam("conversation_id", type_=Integer)
    return (
        select(
            Conversation, Customer, PhoneNumber, Merchant, MerchantUser,
            has_store(Merchant.id), releasing(Conversation.id),
            *pending_question_arrays(Conversation.id), library_summary_array(Merchant.id),
        )
        .join(Customer, Customer.id == Conversation.customer_id)
        .join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id)
        .join(Merchant, Merchant.id == PhoneNumber.merchant_id)
        .outerjoin(MerchantUser, is_staff_identity(Merchant.id, Customer.wa_id, Customer.user_id))
        .where(Conversation.id == conversation_id)
        .limit(1)
    )  # fmt: skip
