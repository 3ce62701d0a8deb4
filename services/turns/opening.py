"""Which turn a conversation runs next: its unfinished one (a crashed run to redo), or a
new one that owns the burst waiting for it; and which conversations wait for one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Exists,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.dml import ReturningUpdate

from persistence.constants import equals
from persistence.db import commit_without_waiting_for_the_disk
from persistence.models import Conversation, DeliveryStatus, Direction, Message, Turn
from services.ingest.ingest import QUIET_TYPES
from services.turns.input import inbound_of_turn

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class OpenTurn:
    turn: Turn
    inbound: list[Message]  # its burst in WhatsApp order (inbound_of_turn)


# The burst's UPDATE refreshes the messages it returns in the session, rather than having
# the ORM work out which were changed: it cannot evaluate the SQL literals of _unbound in
# Python, and its fallback (reading the changed rows' keys) fails beside this RETURNING.
# The session's copies read before are then bound too, as after the usual statement.
_REFRESH_RETURNED = {"synchronize_session": False, "populate_existing": True}


def open_turn(session: Session, conversation_id: int) -> OpenTurn | None:
    """The unfinished turn (a crashed run to redo), or a new one owning the pending burst,
    with its burst: a new turn's is what binding it returns."""
    started = _start_when_waiting(session, conversation_id)
    if started is not None:  # the usual turn, in one statement
        return started
    turn, waiting, flagged = _open_turn_and_waiting(session, conversation_id)
    if turn is not None:
        turn.attempts += 1
        return OpenTurn(turn, inbound_of_turn(session, turn.id))
    # a request flagged after the read is not lost: this turn's follow-up sees it (has_pending)
    requested = _take_reply_request(session, conversation_id) if flagged else False
    if not requested and not waiting:
        return None
    if not waiting and not _reply_still_due(session, conversation_id):
        return None  # a turn that raced the handback has answered already
    if waiting:  # the usual turn: the new turn and its burst, in one statement
        return _start_with_burst(session, conversation_id)
    turn = Turn(conversation_id=conversation_id, attempts=1)
    session.add(turn)
    session.flush()
    burst = session.scalars(
        update(Message)
        .where(*_unbound(conversation_id))
        .values(turn_id=turn.id)
        .returning(Message)
        .execution_options(**_REFRESH_RETURNED)
    ).all()
    return OpenTurn(turn, sorted(burst, key=_whatsapp_order))


def _start_with_burst(session: Session, conversation_id: int) -> OpenTurn:
    """INSERT the turn as a CTE of the UPDATE that binds the burst to it. The turn is not
    in the session: it is read, never changed, by the turn that runs it."""
    rows = session.execute(_start_statement(), {"conversation": conversation_id}).all()
    if not rows:  # the burst was set aside meanwhile (set_aside): the turn runs without it
        turn = session.scalars(select(Turn).where(*_open(conversation_id))).one()
        return OpenTurn(turn, [])
    turn_id, started_at = rows[0].Message.turn_id, rows[0].started_at
    turn = Turn(id=turn_id, conversation_id=conversation_id, attempts=1, started_at=started_at)
    return OpenTurn(turn, sorted((row.Message for row in rows), key=_whatsapp_order))


@cache
def _start_statement() -> ReturningUpdate[Message, datetime]:
    """_start_with_burst's statement, built once and bound per turn."""
    conversation_id = bindparam("conversation", type_=Integer)  # not a column's name
    new = (
        insert(Turn)
        .values(conversation_id=conversation_id, attempts=1)
        .returning(Turn.id, Turn.started_at)
        .cte("new_turn")
    )
    return (
        update(Message)
        .where(*_unbound(conversation_id))
        .values(turn_id=select(new.c.id).scalar_subquery())
        .returning(Message, select(new.c.started_at).scalar_subquery().label("started_at"))
        .execution_options(**_REFRESH_RETURNED)
    )


def _start_when_waiting(session: Session, conversation_id: int) -> OpenTurn | None:
    """The usual turn: messages wait, no turn is open and no reply was requested. Then the
    new turn is INSERTed and its burst bound in one statement, where reading first was one
    more; None otherwise (open_turn reads, and finds which case it is)."""
    params = {"conversation": conversation_id}
    rows = session.execute(_start_when_waiting_statement(), params).all()
    if not rows:
        return None
    turn_id, started_at = rows[0].id, rows[0].started_at
    turn = Turn(id=turn_id, conversation_id=conversation_id, attempts=1, started_at=started_at)
    # a burst set aside while the statement waited for its rows leaves the turn without it
    burst = [row.Message for row in rows if row.Message is not None]
    return OpenTurn(turn, sorted(burst, key=_whatsapp_order))


@cache
def _start_when_waiting_statement() -> Select[int, datetime, Message | None]:
    """_start_when_waiting's statement, built once and bound per turn: the turn's INSERT
    and the burst's UPDATE as CTEs, the turn joined with the burst it bound. A turn it
    starts commits its opening without waiting for the disk: until the reply's claim
    (which waits, and flushes the opening with it), nothing has left that a crash of
    PostgreSQL losing the opening would contradict; the turn is then started again."""
    conversation_id = bindparam("conversation", type_=Integer)
    open_one = exists().where(*_open(conversation_id))
    requested = exists().where(
        Conversation.id == conversation_id, Conversation.reply_requested.is_(True)
    )
    startable = select(conversation_id, literal(1)).where(
        _waiting(conversation_id), ~open_one, ~requested
    )
    new = (
        insert(Turn)
        .from_select(["conversation_id", "attempts"], startable)
        .returning(Turn.id, Turn.started_at)
        .cte("new_turn")
    )
    bound = (
        update(Message)
        .where(*_unbound(conversation_id), exists(select(new.c.id)))
        .values(turn_id=select(new.c.id).scalar_subquery())
        .returning(Message)
        .cte("bound")
    )
    return (
        select(
            new.c.id,
            new.c.started_at,
            aliased(Message, bound, name="Message"),
            commit_without_waiting_for_the_disk().label("synchronous_commit"),
        )
        .select_from(new)
        .outerjoin(bound, true())
        .execution_options(populate_existing=True)  # the session's copies, bound too
    )


def _unbound(conversation_id: int | BindParameter[int]) -> tuple[ColumnElement[bool], ...]:
    """The conversation's inbound messages no turn took yet: a new turn's burst."""
    return (
        Message.conversation_id == conversation_id,
        equals(Message.direction, Direction.INBOUND),  # ix_messages_pending_inbound
        Message.turn_id.is_(None),
    )


def _open(conversation_id: int | BindParameter[int]) -> tuple[ColumnElement[bool], ...]:
    return Turn.conversation_id == conversation_id, Turn.finished_at.is_(None)


def _open_turn_and_waiting(
    session: Session, conversation_id: int
) -> tuple[Turn | None, bool, bool]:
    """The conversation's unfinished turn, whether an inbound message waits for a turn, and
    whether a reply was requested (has_pending's two halves): one statement."""
    row = session.execute(_open_turn_statement(), {"conversation_id": conversation_id}).first()
    return (row[0], bool(row[1]), bool(row[2])) if row else (None, False, False)


@cache
def _open_turn_statement() -> Select[Turn | None, bool, bool]:
    """_open_turn_and_waiting's statement, built once and bound per turn."""
    conversation_id = bindparam("conversation_id", type_=Integer)
    return (
        select(Turn, _waiting(conversation_id), Conversation.reply_requested)
        .select_from(Conversation)
        .outerjoin(Turn, and_(Turn.conversation_id == Conversation.id, Turn.finished_at.is_(None)))
        .where(Conversation.id == conversation_id)
        .limit(1)
    )


def _take_reply_request(session: Session, conversation_id: int) -> bool:
    """Clear the conversation's reply request; whether it was still set (a concurrent turn
    may have taken it)."""
    taken = session.scalar(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.reply_requested.is_(True))
        .values(reply_requested=False)
        .returning(Conversation.id)
    )
    return taken is not None


def _whatsapp_order(message: Message) -> tuple[bool, datetime, int]:
    """inbound_of_turn's ORDER BY wa_timestamp, id (NULLs last, as PostgreSQL sorts them)."""
    return message.wa_timestamp is None, message.wa_timestamp or _EPOCH, message.id


def _reply_still_due(session: Session, conversation_id: int) -> bool:
    """A requested reply (handback, a staff answer to relay) is due while the conversation's
    last message, notes included, is not already an answer to the customer."""
    last = session.scalar(
        select(Message.direction)
        .where(
            Message.conversation_id == conversation_id,
            Message.status != DeliveryStatus.DROPPED,
            Message.type != "reaction",
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    return last != Direction.OUTBOUND


def has_pending(session: Session, conversation_id: int) -> bool:
    """Whether an inbound message (or a handback) waits for a turn."""
    waiting = _waiting(conversation_id)
    requested = exists().where(
        Conversation.id == conversation_id, Conversation.reply_requested.is_(True)
    )
    return bool(session.scalar(select(or_(waiting, requested))))


def _waiting(conversation_id: int | BindParameter[int]) -> Exists:
    return exists().where(
        Message.conversation_id == conversation_id,
        equals(Message.direction, Direction.INBOUND),  # ix_messages_pending_inbound
        Message.turn_id.is_(None),
        Message.type.not_in(QUIET_TYPES),
    )


def conversations_needing_turns(session: Session, *, older_than: datetime) -> list[int]:
    """For the sweeper: pending messages that waited past their window, and turns left open."""
    pending = (
        select(Message.conversation_id)
        .where(
            equals(Message.direction, Direction.INBOUND),  # ix_messages_pending_inbound
            Message.turn_id.is_(None),
            Message.type.not_in(QUIET_TYPES),
        )
        .group_by(Message.conversation_id)
        .having(func.min(Message.created_at) < older_than)
    )
    stale_turns = select(Turn.conversation_id).where(
        Turn.finished_at.is_(None), Turn.started_at < older_than
    )
    requested = select(Conversation.id).where(
        Conversation.reply_requested.is_(True), Conversation.updated_at < older_than
    )
    ids = set(session.scalars(pending)) | set(session.scalars(stale_turns))
    ids |= set(session.scalars(requested))
    return sorted(ids)
