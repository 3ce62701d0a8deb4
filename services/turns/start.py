"""What a turn reads of its conversation and merchant before the graph runs: one statement
where each was a round trip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, bindparam, select, true
from sqlalchemy.orm import Session

from persistence.checkpoint import CheckpointAhead, latest_checkpoint
from persistence.models import Conversation, Customer, Merchant, MerchantUser, PhoneNumber
from services.commerce.queries import has_store
from services.conversations.conversation import Parties
from services.errors import NotFound
from services.media.library import library_summary_array
from services.merchants.merchant import is_staff_identity, staff_match_order
from services.notifications.notifications import pending_question_arrays
from services.parking.parking import releasing
from services.turns.input import note_ids_since, notes_watermark, written_before_burst


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
    # what the graph's load step reads (services.turns.input): the checkpoint's notes
    # watermark, the notes since it and when the conversation spoke before the burst
    notes_after: int = 0
    note_ids: tuple[int, ...] = ()
    previous_at: datetime | None = None
    # the conversation's latest checkpoint, for the graph's checkpointer (read_ahead)
    checkpoint: CheckpointAhead | None = None


def read_turn_start(session: Session, conversation_id: int, turn_id: int = 0) -> TurnStart:
    """conversation_parties, the merchant, find_merchant_user, whether a store is connected,
    release_in_progress, pending_questions, library_summary, what turn_input reads but
    the burst and the latest checkpoint, in one statement."""
    thread_id = str(conversation_id)  # the checkpointer's
    params = {"conversation_id": conversation_id, "turn_id": turn_id,
              "checkpoint_thread": thread_id}  # fmt: skip
    row = session.execute(_start_statement(), params).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    (conversation, customer, phone, merchant, staff, store, released, asked, at, media,
     notes_after, note_ids, previous_at, *checkpoint) = row  # fmt: skip
    return TurnStart(
        parties=(conversation, customer, phone), merchant=merchant, staff=staff,
        store_connected=bool(store), releasing=bool(released),
        questions=tuple(zip((q or "" for q in asked or ()), at or (), strict=True)),
        media_library=tuple((key, kind, caption) for key, kind, caption in media or ()),
        notes_after=notes_after, note_ids=tuple(note_ids or ()), previous_at=previous_at,
        checkpoint=CheckpointAhead.of(thread_id, checkpoint),
    )  # fmt: skip


@cache
def _start_statement() -> Select[
    Conversation, Customer, PhoneNumber, Merchant, MerchantUser | None, bool, bool,
    list[str | None], list[datetime], list[list[str]], int, list[int] | None, datetime | None,
    *tuple[Any, ...],
]:  # fmt: skip
    """read_turn_start's statement, built once and bound per turn."""
    conversation_id = bindparam("conversation_id", type_=Integer)
    # turn_input's parts take the bound id, not the column: they are not correlated (a
    # subquery in a subquery would otherwise bring a conversations table of its own)
    checkpoint = latest_checkpoint()
    watermark = notes_watermark(checkpoint.c.checkpoint)
    return (
        select(
            Conversation, Customer, PhoneNumber, Merchant, MerchantUser,
            has_store(Merchant.id), releasing(Conversation.id),
            *pending_question_arrays(Conversation.id), library_summary_array(Merchant.id),
            watermark, note_ids_since(conversation_id, watermark),
            written_before_burst(conversation_id, bindparam("turn_id", type_=Integer)),
            *checkpoint.c,
        )
        .join(Customer, Customer.id == Conversation.customer_id)
        .join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id)
        .join(Merchant, Merchant.id == PhoneNumber.merchant_id)
        .outerjoin(MerchantUser, is_staff_identity(Merchant.id, Customer.wa_id, Customer.user_id))
        .outerjoin(checkpoint, true())
        .where(Conversation.id == conversation_id)
        .order_by(*staff_match_order(Customer.wa_id))
        .limit(1)
    )  # fmt: skip
