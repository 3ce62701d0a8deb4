"""The outbox: every outbound message is a row before it is a Graph API call.

A message is written `pending`, marked `sending` in its own commit, then sent while the
conversation row is held FOR KEY SHARE, so a takeover (which locks the row FOR UPDATE)
either happens before the send, and the AI message is dropped, or waits until it is done.
A send whose outcome is unknown is reconciled from status webhooks, never blindly resent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Connection, TextClause, case, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from channels.text import split_message
from channels.webhook import StatusUpdate
from observability.logs import get_logger
from persistence.constants import one_of
from persistence.models import (
    Author,
    DeliveryStatus,
    Direction,
    Message,
)

log = get_logger(__name__)

CALLBACK_PREFIX = "sb:"

_RANK = {
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.UNKNOWN: 1,
    DeliveryStatus.ACCEPTED: 2,
    DeliveryStatus.SENT: 3,
    DeliveryStatus.DELIVERED: 4,
    DeliveryStatus.READ: 5,
}
_WEBHOOK_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


def enqueue_reply(
    session: Session, *, conversation_id: int, turn_id: int, text: str, author: Author = Author.AI
) -> list[int]:
    """Write a reply's parts to the outbox once per turn; return the ids still to send."""
    parts = write_reply(
        session, conversation_id=conversation_id, turn_id=turn_id, text=text, author=author
    )
    return [message_id for message_id, status in parts if status == DeliveryStatus.PENDING]


def write_claimed_reply(
    connection: Connection, *, conversation_id: int, turn_id: int, text: str, author: Author
) -> int | None:
    """The usual reply (one part, the turn's first outbound row) written already claimed,
    in one statement: what was an INSERT, its re-read and the claim's UPDATE. Run it in
    autocommit: the row is then committed (claimed) before the send, in one round trip.
    None when the reply is not the usual one: write_reply writes it then, and finds the
    rows an earlier attempt left in flight rather than writing them again."""
    parts = split_message(text)
    if len(parts) != 1:
        return None
    return connection.scalar(
        _CLAIMED_REPLY,
        {"conversation_id": conversation_id, "author": author.value, "text": parts[0],
         "status_at": datetime.now(UTC), "turn_id": turn_id},
    )  # fmt: skip


def write_reply(
    session: Session,
    *,
    conversation_id: int,
    turn_id: int,
    text: str,
    author: Author = Author.AI,
) -> list[tuple[int, DeliveryStatus]]:
    """Write a reply's parts to the outbox (`pending`) once per turn; return every outbound
    row of the turn (an earlier attempt's parts, its offers and files too) as (id, status),
    in order."""
    parts = split_message(text)
    for seq, part in enumerate(parts):
        session.execute(
            insert(Message)
            .values(
                conversation_id=conversation_id,
                direction=Direction.OUTBOUND,
                author=author,
                type="text",
                text=part,
                status=DeliveryStatus.PENDING,
                turn_id=turn_id,
                seq=seq,
                send_attempts=0,
            )
            .on_conflict_do_nothing(constraint="uq_messages_turn_reply_part")
        )
    rows = session.execute(
        select(Message.id, Message.status)
        .where(Message.turn_id == turn_id, Message.direction == Direction.OUTBOUND)
        .order_by(Message.seq)
    ).all()
    return [(row.id, DeliveryStatus(row.status)) for row in rows]


# write_claimed_reply's part, claimed as flows.claim would (`sending`, one attempt), written
# only while the turn has no outbound row: none means a redone turn, an offer or a file
_CLAIMED_REPLY = text(
    f"INSERT INTO messages (conversation_id, direction, author, type, text, status, status_at,"
    f" turn_id, seq, send_attempts)"
    f" SELECT :conversation_id, '{Direction.OUTBOUND.value}', :author, 'text', :text,"
    f" '{DeliveryStatus.SENDING.value}', CAST(:status_at AS timestamptz), :turn_id, 0, 1"
    f" WHERE NOT EXISTS (SELECT FROM messages"
    f" WHERE turn_id = :turn_id AND direction = '{Direction.OUTBOUND.value}')"
    f" ON CONFLICT ON CONSTRAINT uq_messages_turn_reply_part DO NOTHING RETURNING id"
)


def enqueue_message(session: Session, *, conversation_id: int, text: str, author: Author) -> int:
    """An outbound message outside a turn (follow-ups, notices): one row, sent after commit."""
    message = Message(
        conversation_id=conversation_id,
        direction=Direction.OUTBOUND,
        author=author,
        type="text",
        text=text[:4096],
        status=DeliveryStatus.PENDING,
        send_attempts=0,
    )
    session.add(message)
    session.flush()
    return message.id


def apply_statuses(session: Session, statuses: list[StatusUpdate]) -> int:
    """Apply a webhook's statuses; how many moved (or matched) an outbound message. The
    usual ones (sent, delivered, read of distinct messages) go in one monotonic UPDATE;
    those it did not move, and any failure, take apply_status's way one by one."""
    wamids = {status.wamid for status in statuses}
    if len(wamids) < len(statuses) or any(s.status not in _FORWARD for s in statuses):
        return sum(1 for status in statuses if apply_status(session, status))
    rows = [(s.wamid, _FORWARD[s.status].value, s.timestamp, _RANK[_FORWARD[s.status]])
            for s in statuses]  # fmt: skip
    moved = set(session.scalars(_forward_statement(len(rows)), _rows_params(rows)))
    return len(moved) + sum(
        1 for status in statuses if status.wamid not in moved and apply_status(session, status)
    )


# the statuses a webhook moves a message forward to, without error details
_FORWARD = {name: status for name, status in _WEBHOOK_STATUSES.items() if status in _RANK}
_COLUMNS = ("wamid", "status", "status_at", "rank")


def _rows_params(rows: list[tuple[str, str, datetime, int]]) -> dict[str, object]:
    return {f"{name}_{i}": value for i, row in enumerate(rows)
            for name, value in zip(_COLUMNS, row, strict=True)}  # fmt: skip


@lru_cache(maxsize=32)
def _forward_statement(count: int) -> TextClause:
    """UPDATE messages FROM (VALUES (wamid, status, status_at, rank) x count): each outbound
    message moves to its status only if that ranks above its own. Text, built once per
    count: SQLAlchemy would compile a VALUES construct again for every webhook."""
    rows = ", ".join(
        f"(:wamid_{i}, :status_{i}, CAST(:status_at_{i} AS timestamptz), CAST(:rank_{i} AS int))"
        for i in range(count)
    )
    rank = " ".join(f"WHEN '{status.value}' THEN {r}" for status, r in _RANK.items())
    return text(
        f"UPDATE messages SET status = v.status, status_at = v.status_at"
        f" FROM (VALUES {rows}) AS v (wamid, status, status_at, rank)"
        f" WHERE messages.wamid = v.wamid AND messages.direction = '{Direction.OUTBOUND.value}'"
        f" AND (CASE messages.status {rank} END) < v.rank"
        f" RETURNING messages.wamid"
    )


def apply_status(session: Session, status: StatusUpdate) -> bool:
    """Move an outbound message forward (never back); match by wamid or our callback id."""
    new = _WEBHOOK_STATUSES.get(status.status)
    if new is None:
        return False
    values = _status_values(new, status)
    allowed = [s for s, rank in _RANK.items() if rank < _RANK.get(new, 4)]
    # the usual status: its wamid is known and it moves the message forward, one statement
    moved = session.execute(
        update(Message)
        .where(
            Message.wamid == status.wamid,
            Message.direction == Direction.OUTBOUND,
            Message.status.in_(allowed),
        )
        .values(**values)
        .returning(Message.id)
    ).scalar()
    if moved is not None:
        return True
    target = _match_outbound(session, status)
    if target is None:
        log.info("whatsapp.status.unmatched", status=status.status)
        return False
    moved = session.execute(
        update(Message)
        .where(Message.id == target, Message.status.in_(allowed))
        .values(**values)
        .returning(Message.id)
    ).scalar()
    if moved is None:
        _learn_wamid(session, target, status.wamid)
    return moved is not None


def _status_values(new: DeliveryStatus, status: StatusUpdate) -> dict[str, object]:
    values: dict[str, object] = {
        "status": new,
        "status_at": status.timestamp,
        "wamid": status.wamid,
    }
    if new == DeliveryStatus.FAILED:
        first = status.errors[0] if status.errors else None
        values["error_code"] = first.code if first else None
        values["error_detail"] = _error_text(status)
    return values


def _match_outbound(session: Session, status: StatusUpdate) -> int | None:
    found = session.scalar(
        select(Message.id).where(
            Message.wamid == status.wamid, Message.direction == Direction.OUTBOUND
        )
    )
    if found is not None:
        return found
    data = status.callback_data or ""
    if data.startswith(CALLBACK_PREFIX) and data[len(CALLBACK_PREFIX) :].isdigit():
        return session.scalar(
            select(Message.id).where(
                Message.id == int(data[len(CALLBACK_PREFIX) :]),
                Message.direction == Direction.OUTBOUND,
            )
        )
    return None


def _learn_wamid(session: Session, message_id: int, wamid: str) -> None:
    session.execute(
        update(Message).where(Message.id == message_id, Message.wamid.is_(None)).values(wamid=wamid)
    )


def _error_text(status: StatusUpdate) -> str | None:
    parts = [
        " ".join(str(x) for x in (e.code, e.title, e.details or e.message) if x)
        for e in status.errors
    ]
    return "; ".join(parts)[:2000] or None


def unresolved_sends(session: Session, *, older_than: datetime) -> list[int]:
    """Outbox rows stuck before a known outcome: pending (worker died before sending),
    sending/unknown (no status webhook arrived)."""
    stmt = select(Message.id).where(
        Message.direction == Direction.OUTBOUND,
        one_of(  # ix_messages_unresolved_outbound
            Message.status, [DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN]
        ),
        Message.created_at < older_than,
        case((Message.status_at.is_(None), Message.created_at), else_=Message.status_at)
        < older_than,
    )
    return list(session.scalars(stmt.order_by(Message.id).limit(500)))
