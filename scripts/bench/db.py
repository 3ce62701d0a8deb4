"""What the benchmark reads from PostgreSQL: one section's rows are those of its phone number."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text

CHECKPOINT_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")
_OF_PHONE = (
    "JOIN conversations c ON c.id = {alias}.conversation_id WHERE c.phone_number_id = :phone"
)


def _rows(sql: str, **params: Any) -> list[dict[str, Any]]:
    from persistence.db import get_engine

    with get_engine().connect() as conn:
        return [dict(row._mapping) for row in conn.execute(text(sql), params)]


def conversations(phone: int) -> dict[str, int]:
    """Customer wa_id -> conversation id."""
    rows = _rows(
        "SELECT cu.wa_id, c.id FROM conversations c JOIN customers cu ON cu.id = c.customer_id "
        "WHERE c.phone_number_id = :phone",
        phone=phone,
    )
    return {row["wa_id"]: row["id"] for row in rows}


def progress(phone: int) -> dict[str, int]:
    """Where a section's messages are: stored, waiting for a turn, replies not yet settled."""
    messages = _rows(
        "SELECT count(*) FILTER (WHERE m.direction = 'in') AS inbound, "
        "count(*) FILTER (WHERE m.direction = 'in' AND m.turn_id IS NULL) AS pending, "
        "count(*) FILTER (WHERE m.direction = 'out') AS outbound, "
        "count(*) FILTER (WHERE m.direction = 'out' AND m.status = 'accepted') AS accepted, "
        "count(*) FILTER (WHERE m.direction = 'out' "
        "AND m.status IN ('pending', 'sending', 'unknown')) AS unresolved "
        "FROM messages m " + _OF_PHONE.format(alias="m"),
        phone=phone,
    )[0]
    turns = _rows(
        "SELECT count(*) AS turns, count(*) FILTER (WHERE t.finished_at IS NULL) AS open_turns "
        "FROM turns t " + _OF_PHONE.format(alias="t"),
        phone=phone,
    )[0]
    return {**messages, **turns}


def turns(phone: int) -> list[dict[str, Any]]:
    return _rows(
        "SELECT t.id, t.conversation_id, t.started_at, t.finished_at, t.outcome, t.attempts "
        "FROM turns t " + _OF_PHONE.format(alias="t") + " ORDER BY t.id",
        phone=phone,
    )


def messages(phone: int, direction: str) -> list[dict[str, Any]]:
    return _rows(
        "SELECT m.id, m.conversation_id, m.wamid, m.turn_id, m.seq, m.status, m.text, "
        "m.send_attempts "
        "FROM messages m " + _OF_PHONE.format(alias="m") + " AND m.direction = :direction "
        "ORDER BY m.id",
        phone=phone,
        direction=direction,
    )


# what each table holds, uncompressed: pg_column_size counts values as stored (compressed)
_RAW = {
    "checkpoints": "octet_length(t.checkpoint::text) + octet_length(t.metadata::text)",
    "checkpoint_blobs": "coalesce(octet_length(t.blob), 0)",
    "checkpoint_writes": "coalesce(octet_length(t.blob), 0)",
}


def checkpoint_bytes(thread_id: str) -> dict[str, dict[str, int]]:
    """One thread's rows in each checkpoint table: their bytes as stored (pg_column_size of
    whole rows; large values are compressed) and the raw bytes of their payloads."""
    result = {}
    for table in CHECKPOINT_TABLES:
        row = _rows(
            f"SELECT count(*) AS rows, coalesce(sum(pg_column_size(t.*)), 0) AS bytes, "
            f"coalesce(sum({_RAW[table]}), 0) AS raw_bytes "
            f"FROM {table} t WHERE thread_id = :thread",
            thread=thread_id,
        )[0]
        result[table] = {k: int(row[k]) for k in ("rows", "bytes", "raw_bytes")}
    return result


def table_sizes() -> dict[str, int]:
    """pg_total_relation_size of the checkpoint tables and the message record, for context."""
    names = (*CHECKPOINT_TABLES, "messages", "turns")
    row = _rows("SELECT " + ", ".join(f"pg_total_relation_size('{n}') AS {n}" for n in names))[0]
    return {name: int(row[name]) for name in names}


def delete_conversations(phone: int) -> list[int]:
    """Forget a section's conversations (messages and turns go with them)."""
    from persistence.db import get_engine

    with get_engine().begin() as conn:
        ids = conn.execute(
            text("DELETE FROM conversations WHERE phone_number_id = :phone RETURNING id"),
            {"phone": phone},
        ).scalars()
        return list(ids)


def clear_inbox() -> None:
    """Forget the webhook bodies no drain took (a section without a worker)."""
    from persistence.db import get_engine

    with get_engine().begin() as conn:
        conn.execute(text("DELETE FROM webhook_inbox"))


def add_replies(replies: list[tuple[int, str]]) -> None:
    """Outbound messages the Graph API took (conversation id, wamid), for statuses to move."""
    from persistence.db import get_engine

    with get_engine().begin() as conn:
        conn.execute(
            text(
                "INSERT INTO messages (conversation_id, direction, author, wamid, type, text, "
                "status, send_attempts, created_at) VALUES (:conversation, 'out', 'ai', :wamid, "
                "'text', 'Yes, size 42 is in stock.', 'accepted', 1, now())"
            ),
            [{"conversation": c, "wamid": w} for c, w in replies],
        )


def statuses_of(wamids: list[str]) -> dict[str, int]:
    """How many of these messages are at each delivery status."""
    rows = _rows(
        "SELECT status, count(*) AS n FROM messages WHERE wamid = ANY(:wamids) GROUP BY status",
        wamids=wamids,
    )
    return {row["status"]: row["n"] for row in rows}


def server_info() -> dict[str, Any]:
    settings = ("shared_buffers", "synchronous_commit", "fsync", "max_connections", "work_mem")
    info: dict[str, Any] = {"version": _rows("SELECT version() AS v")[0]["v"]}
    for name in settings:
        info[name] = _rows(f"SHOW {name}")[0][name]
    return info


def backend_pid() -> int:
    return int(_rows("SELECT pg_backend_pid() AS pid")[0]["pid"])


def epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None
