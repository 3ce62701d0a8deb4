"""A turn: one graph run over one burst of a conversation's inbound messages.

Two turns of one conversation never overlap: a PostgreSQL advisory lock, held on its own
connection for the whole turn, is released by the server even if the worker dies. The
burst is bound to a `turns` row before the graph runs, so a redone turn sees the same
input, and its replies go through the outbox keyed by (turn, part): never sent twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import partial
from threading import Event

import structlog
from sqlalchemy import (
    DateTime,
    Update,
    bindparam,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from graph.context import TurnContext
from observability.logs import get_logger
from observability.metrics import BURST_MESSAGES, TURNS
from persistence.checkpoint import read_ahead
from persistence.db import autocommit_scope, session_scope
from persistence.models import (
    Author,
    DeliveryStatus,
    Merchant,
    Message,
    Turn,
    TurnResult,
)
from services.clock import now as clock_now
from services.commerce.catalog_order import checkout_catalog_order
from services.conversations.conversation import Parties
from services.conversations.language import remember_language
from services.delivery.flows import claim, reconcile, send_claimed, send_pending
from services.delivery.outbox import write_claimed_reply, write_reply
from services.desk.away import queue_away_message
from services.handoff.handoff import escalate_after_failure
from services.media.flows import needs_preparing
from services.merchants.hours import describe_opening, describe_time, local_now
from services.notifications.claims import claim_from_burst
from services.notifications.notifications import open_for_staff
from services.parking.flows import park_refused_turn, send_released
from services.turns.graph_services import turn_reading
from services.turns.opening import open_turn
from services.turns.presence import ReadReceipt, read_receipt
from services.turns.reply import outgoing_reply
from services.turns.start import TurnStart, read_turn_start
from settings import get_settings

log = get_logger(__name__)

_TURN_LOCK_NAMESPACE = 1
# a turn redone this many times (each run killed its worker or hit the hard time limit)
# goes to a person instead of running again
MAX_TURN_ATTEMPTS = 3


@dataclass(frozen=True)
class TurnOutcome:
    status: str  # busy | idle | replied | silent | needs_human | no_reply | unsent
    turn_id: int | None = None
    sent: int = 0


@contextmanager
def conversation_lock(conversation_id: int) -> Iterator[bool]:
    """Try to take the conversation's turn lock; yields whether we hold it. The lock belongs
    to the connection's session, not to a transaction: in autocommit, taking and releasing
    it are one round trip each (a transaction's BEGIN and COMMIT were two more each)."""
    with autocommit_scope() as conn:
        got = conn.execute(
            text("SELECT pg_try_advisory_lock(:ns, :id)"),
            {"ns": _TURN_LOCK_NAMESPACE, "id": conversation_id},
        ).scalar()
        try:
            yield bool(got)
        finally:
            if got:
                conn.execute(
                    text("SELECT pg_advisory_unlock(:ns, :id)"),
                    {"ns": _TURN_LOCK_NAMESPACE, "id": conversation_id},
                )


def _pending_questions(start: TurnStart, timezone: str) -> tuple[str, ...]:
    """One line per question. Its words come from the customer: the prompt cleans, caps and
    quotes them as data in its [Context] message (graph.prompts.as_data)."""
    return tuple(
        f'"{question}" (asked {local_now(timezone, asked_at):%A %H:%M})'
        for question, asked_at in start.questions
    )


def clock() -> datetime:
    """Now (FROZEN_TIME when set); the evaluation suite also replaces this function."""
    return clock_now()


def turn_context(
    session: Session,
    conversation_id: int,
    turn_id: int,
    attempt: int = 1,
    *,
    deadline: float | None = None,
    start: TurnStart | None = None,
    media_to_prepare: bool = True,
) -> TurnContext:
    start = start or read_turn_start(session, conversation_id)
    (conversation, customer, _), merchant, staff = start.parties, start.merchant, start.staff
    now = clock()
    return TurnContext(
        conversation_id=conversation.id,
        turn_id=turn_id,
        merchant_id=merchant.id,
        merchant_name=merchant.name,
        merchant_description=merchant.description,
        tone=merchant.tone,
        default_language=merchant.default_language,
        customer_name=staff.name if staff else customer.profile_name,
        customer_language=customer.language,
        role="admin" if staff else "customer",
        greeting=merchant.greeting,
        ai_rules=merchant.ai_rules,
        attempt=attempt,
        staff_type=staff.type if staff else None,
        staff_user_id=staff.id if staff else None,
        open_requests=tuple(r.summary for r in open_for_staff(session, staff.id)) if staff else (),
        pending_questions=() if staff else _pending_questions(start, merchant.timezone),
        media_library=start.media_library,
        store_connected=start.store_connected,
        timezone=merchant.timezone,
        local_time=describe_time(merchant.timezone, now),
        opening_hours=describe_opening(
            merchant.opening_hours,
            merchant.timezone,
            now,
            (date.fromisoformat(h["date"]) for h in merchant.holidays or []),
        ),
        reply_max_chars=get_settings().reply_max_chars or 4096,
        deadline=deadline,
        media_to_prepare=media_to_prepare,
    )


def run_turn(
    conversation_id: int,
    *,
    run_graph: Callable[[TurnContext], tuple[str | None, str]],
    presence: Callable[[ReadReceipt], AbstractContextManager[Event]] | None = None,
) -> TurnOutcome:
    """Run the conversation's next turn if no other is running.

    `run_graph` returns the reply (None: nothing to send) and the graph's outcome."""
    started = time.monotonic()
    limit = get_settings().turn_deadline_seconds
    deadline = started + limit if limit > 0 else None
    with structlog.contextvars.bound_contextvars(conversation_id=conversation_id):
        outcome = _run_turn(conversation_id, run_graph, presence, deadline)
    TURNS.labels(outcome.status).observe(time.monotonic() - started)
    return outcome


def _run_turn(
    conversation_id: int,
    run_graph: Callable[[TurnContext], tuple[str | None, str]],
    presence: Callable[[ReadReceipt], AbstractContextManager[Event]] | None,
    deadline: float | None,
) -> TurnOutcome:
    with conversation_lock(conversation_id) as locked:
        if not locked:
            log.info("turn.busy")
            return TurnOutcome("busy")
        with session_scope() as session:
            opened = open_turn(session, conversation_id)
            if opened is None:
                return TurnOutcome("idle")
            turn, inbound = opened.turn, opened.inbound
            if turn.attempts > MAX_TURN_ATTEMPTS:  # it crashed its worker every time
                turn_id = turn.id
            else:
                turn_id = None
                # read once for the steps below (each a round trip otherwise); `start` holds
                # the merchant while the session lasts: its identity map keeps it only while
                # referenced, and queue_away_message reads it again
                start = read_turn_start(session, conversation_id, turn.id)
                parties = start.parties
                learn_language(session, parties, inbound, start.merchant)
                context = turn_context(session, conversation_id, turn.id, turn.attempts,
                                       deadline=deadline, start=start,
                                       media_to_prepare=needs_preparing(inbound))  # fmt: skip
                burst = len(inbound)
                claimed = _claim_ack(session, context, inbound)
                away = queue_away_message(session, parties, now=clock()) if burst else None
                # what the steps below would each open a session to find out
                releasing = start.releasing
                ordered = any(m.type == "order" for m in inbound)
                receipt = read_receipt(parties, inbound) if presence else None
                # nothing is sent or prepared before the graph runs: its input is read now
                sent_first = claimed is not None or away is not None or releasing or ordered
                if not (sent_first or context.media_to_prepare):
                    context = _with_reading(session, context, start, inbound)
        if turn_id is not None:
            return _abandon(conversation_id, turn_id, "The AI failed on this turn repeatedly")
        with structlog.contextvars.bound_contextvars(turn_id=turn.id):
            if turn.attempts == 1 and burst:
                BURST_MESSAGES.observe(burst)
            if releasing:
                send_released(conversation_id)  # what waited for the window goes first
            if away is not None:  # closed, and nobody answers: the merchant's away message
                send_pending(away, only_in_ai_mode=False)
            reply: str | None
            outcome: str
            # the read receipt (with a typing indicator while the model works), sent after
            # the reply at the latest; a tap on "I'll answer" is acknowledged without either
            receipt_sent = presence(receipt) if presence and receipt and claimed is None else None
            with receipt_sent or nullcontext(Event()) as answered:
                if claimed is not None:
                    reply, outcome = claimed, TurnResult.REPLIED
                else:
                    if ordered and context.role == "customer":  # a catalog cart: its link
                        checkout_catalog_order(conversation_id=conversation_id, turn_id=turn.id)
                    with read_ahead(start.checkpoint):  # the graph's, read with the start
                        reply, outcome = run_graph(context)
                    answered.set()  # no more typing indicator: the reply follows
                    if outcome == TurnResult.REPLIED:  # the model's words, not a holding one
                        reply = outgoing_reply(reply, role=context.role)
                    elif away is not None and outcome == TurnResult.NEEDS_HUMAN:
                        reply = None  # the away message says it better than "a colleague..."
                sent, finished = _deliver(
                    conversation_id, turn.id, reply, author=reply_author(outcome), outcome=outcome
                )
            if reply and not sent:
                outcome = TurnResult.UNSENT  # dropped by a takeover, or failed at the Graph API
                park_refused_turn(conversation_id, turn.id)  # window closed (131047)?
            if not finished:
                _finish(turn.id, outcome)
            log.info("turn.finished", outcome=outcome, attempt=turn.attempts, messages=burst)
            return TurnOutcome(outcome, turn.id, sent)


def _with_reading(
    session: Session, context: TurnContext, start: TurnStart, burst: list[Message]
) -> TurnContext:
    """The context with the turn's input, read with its start, for the graph's load step
    (one statement less; the notes are a second one when there are any)."""
    notes: list[Message] = []
    if start.note_ids:
        notes_read = select(Message).where(Message.id.in_(start.note_ids)).order_by(Message.id)
        notes = list(session.scalars(notes_read))
    conversation = start.parties[0]
    reading = turn_reading(
        session, inbound=burst, notes=notes, previous_at=start.previous_at,
        mode=conversation.mode, needs_human=conversation.needs_human,
        notes_after=start.notes_after,
    )  # fmt: skip
    return replace(context, reading=reading)


def _claim_ack(session: Session, context: TurnContext, burst: list[Message]) -> str | None:
    if context.staff_user_id is None:
        return None
    return claim_from_burst(
        session, burst=burst, merchant_id=context.merchant_id,
        staff_user_id=context.staff_user_id, language=context.default_language,
    )  # fmt: skip


def learn_language(
    session: Session, parties: Parties, burst: list[Message], merchant: Merchant
) -> None:
    """What the customer wrote (or said, in a voice note) in this turn may tell their language."""
    customer = parties[1]
    texts = [m.transcript or m.text or "" for m in burst]
    remember_language(session, customer, texts, default=merchant.default_language)


def abandon_turn(conversation_id: int, *, reason: str) -> TurnOutcome:
    """End the open turn without the AI (stuck past its time limit): a person is flagged
    and the customer told once. Safe to repeat: the holding message is the turn's reply."""
    with conversation_lock(conversation_id) as locked:
        if not locked:
            return TurnOutcome("busy")
        with session_scope() as session:
            turn_id = session.scalar(
                select(Turn.id).where(
                    Turn.conversation_id == conversation_id, Turn.finished_at.is_(None)
                )
            )
        if turn_id is None:
            return TurnOutcome("idle")
        return _abandon(conversation_id, turn_id, reason)


def _abandon(conversation_id: int, turn_id: int, reason: str) -> TurnOutcome:
    """Under the conversation lock."""
    with session_scope() as session:
        holding = escalate_after_failure(session, conversation_id, reason)
    sent, _ = _deliver(conversation_id, turn_id, holding, author=Author.HOLDING)
    _finish(turn_id, TurnResult.ABANDONED)
    log.warning("turn.abandoned", turn_id=turn_id, reason=reason)
    return TurnOutcome("abandoned", turn_id, sent)


_DELIVERED = (
    DeliveryStatus.ACCEPTED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ,
)  # fmt: skip


def reply_author(outcome: str) -> Author:
    """Who a turn's reply is from: the model, the knowledge base (degraded mode), or the
    holding message of a turn no model could answer."""
    if outcome == TurnResult.AUTO_ANSWERED:
        return Author.AUTO_ANSWER
    return Author.AI if outcome == TurnResult.REPLIED else Author.HOLDING


def _deliver(
    conversation_id: int,
    turn_id: int,
    reply: str | None,
    *,
    author: Author,
    outcome: str | None = None,
) -> tuple[int, bool]:
    """Send the turn's reply; return the parts delivered, and whether the turn was finished
    with `outcome` in the transaction that recorded the reply's send (a one-part reply that
    went out: the usual turn saves a transaction of its own)."""
    if not reply:
        return 0, False
    # the first part is claimed with its write: killed before the send, the redone turn
    # finds it in flight and reconciles it (_settle), as after any claim. The usual reply
    # (one part, the turn's only outbound row) is written claimed in one statement, which
    # commits by itself; any other is written `pending` and its first part claimed.
    with autocommit_scope() as connection:
        first = write_claimed_reply(connection, conversation_id=conversation_id,
                                    turn_id=turn_id, text=reply, author=author)  # fmt: skip
    if first is not None:
        parts, ids = [(first, DeliveryStatus.SENDING)], [first]
    else:
        with session_scope() as session:
            parts = write_reply(session, conversation_id=conversation_id, turn_id=turn_id,
                                text=reply, author=author)  # fmt: skip
            ids = [message_id for message_id, status in parts if status == DeliveryStatus.PENDING]
            if ids and claim(session, ids[0]):
                first = ids[0]
    # a one-part reply that goes out finishes its turn in the statement recording the send
    finish = None
    if outcome is not None and first is not None and len(parts) == 1:
        finish = partial(finished_turn, turn_id, outcome)  # built after the send
    statuses = {
        message_id: send_claimed(message_id, only_in_ai_mode=True, text=True,
                                 on_accepted=finish)
        if message_id == first
        else send_pending(message_id, only_in_ai_mode=True)
        for message_id in ids
    }  # fmt: skip
    for message_id, status in parts:
        if message_id not in statuses:
            statuses[message_id] = _settle(message_id, status)
    # the turn was finished with its reply's send, if the send was accepted
    accepted = first is not None and statuses[first] == DeliveryStatus.ACCEPTED
    finished = finish is not None and accepted
    return sum(1 for status in statuses.values() if status in _DELIVERED), finished


def _settle(message_id: int, status: DeliveryStatus) -> DeliveryStatus:
    """A part a crashed attempt of this turn left in flight (sending, unknown): wait, still
    holding the conversation's lock, for WhatsApp's status webhook; without one, reconcile
    (resend once) now. The next turn's reply can then never overtake this one."""
    if status not in (DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN):
        return status
    deadline = time.monotonic() + get_settings().send_status_grace_seconds
    while time.monotonic() < deadline:
        time.sleep(0.5)
        with session_scope() as session:
            current = session.scalar(select(Message.status).where(Message.id == message_id))
        if current is None:  # its conversation was deleted meanwhile
            raise LookupError(f"message {message_id} no longer exists")
        status = DeliveryStatus(current)
        if status not in (DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN):
            return status
    log.warning("turn.reply_in_flight.reconciled", message_id=message_id)
    return reconcile(message_id)


def _finish(turn_id: int, outcome: str) -> None:
    with session_scope() as session:
        finish_turn(session, turn_id, outcome)


def finish_turn(session: Session, turn_id: int, outcome: str) -> None:
    session.execute(finished_turn(turn_id, outcome))


def finished_turn(turn_id: int, outcome: str) -> Update:
    """The UPDATE that finishes a turn with its outcome, timed when it runs (it may be
    built before the send it goes with)."""
    finished_at = bindparam("finished_at", callable_=_utc_now, type_=DateTime(timezone=True))
    return (
        update(Turn)
        .where(Turn.id == turn_id)
        .values(finished_at=finished_at, outcome=TurnResult(outcome))
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)
