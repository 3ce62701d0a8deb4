"""The graph's checkpointer: each conversation keeps only its latest checkpoint.

A turn needs no older state (the database keeps the full record): the statement that writes
a checkpoint also deletes the thread's older checkpoints, their pending writes and the blobs
the new one no longer references. It replaces langgraph's `prune(strategy="keep_latest")`
(16 statements over three tables, in a transaction of its own) for a graph without subgraphs
or delta channels, which is ours, and runs in the pipeline of langgraph's own `put` (its
blobs, then this statement): one connection and one round trip per checkpoint. A worker
killed after the blobs and before this statement leaves blobs behind; the next turn's write
removes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple, get_checkpoint_id
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.postgres.base import SELECT_SQL
from psycopg import Connection
from psycopg.rows import DictRow
from psycopg_pool import ConnectionPool
from sqlalchemy import LargeBinary, Subquery, Text, bindparam, column, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from persistence.checkpoint_serde import MessagesSerializer

# PostgresSaver.put runs this with its upsert's parameters: thread, namespace, checkpoint id,
# parent id, checkpoint, metadata. Only older rows go (checkpoint ids grow with time), and a
# blob only when the kept checkpoint holds a newer version of its channel or no longer has
# the channel: whatever another writer of the thread put meanwhile would survive (turns
# never overlap anyway). The kept checkpoint has no parent, as after langgraph's prune: the
# parent's row is deleted here.
_UPSERT_KEEPING_LATEST_SQL = """
WITH kept AS (
    INSERT INTO checkpoints
        (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
    VALUES (%s, %s, %s, CASE WHEN %s::text IS NULL THEN NULL END, %s, %s)
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id)
    DO UPDATE SET checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata,
                  parent_checkpoint_id = NULL
    RETURNING thread_id, checkpoint_ns, checkpoint_id, checkpoint
), writes AS (
    DELETE FROM checkpoint_writes w USING kept k
    WHERE w.thread_id = k.thread_id AND w.checkpoint_ns = k.checkpoint_ns
      AND w.checkpoint_id < k.checkpoint_id
), blobs AS (
    DELETE FROM checkpoint_blobs b USING kept k
    WHERE b.thread_id = k.thread_id AND b.checkpoint_ns = k.checkpoint_ns AND NOT EXISTS (
        SELECT 1 FROM jsonb_each_text(k.checkpoint -> 'channel_versions') AS v(channel, version)
        WHERE v.channel = b.channel AND v.version <= b.version
    )
)
DELETE FROM checkpoints c USING kept k
WHERE c.thread_id = k.thread_id AND c.checkpoint_ns = k.checkpoint_ns
  AND c.checkpoint_id < k.checkpoint_id
"""


class LatestCheckpointSaver(PostgresSaver):
    """PostgresSaver keeping one checkpoint per thread and namespace: the latest, its
    messages stored as plain fields (persistence.checkpoint_serde)."""

    UPSERT_CHECKPOINTS_SQL = _UPSERT_KEEPING_LATEST_SQL

    def __init__(self, pool: ConnectionPool[Connection[DictRow]]) -> None:
        super().__init__(pool, serde=MessagesSerializer())

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The thread's latest checkpoint, from the row read ahead (`read_ahead`) when there
        is one for this thread: once, as later reads must see what the run wrote since."""
        ahead = _read_ahead.get()
        configurable = config["configurable"]
        if (
            ahead is not None
            and not ahead.taken
            and configurable["thread_id"] == ahead.thread_id
            and not configurable.get("checkpoint_ns")
            and not get_checkpoint_id(config)
        ):
            ahead.taken = True
            if ahead.row is None:
                return None
            # a checkpoint from before langgraph's format 4 has pending sends to migrate
            if ahead.row["checkpoint"].get("v", 0) >= 4:
                return self._load_checkpoint_tuple(ahead.row)
        return super().get_tuple(config)


# --- reading a thread's latest checkpoint ahead, with another statement -----------------

# PostgresSaver.get_tuple's statement for the thread's latest checkpoint, the thread bound
# as :checkpoint_thread (the checkpointer's thread id: the conversation's id as text)
_LATEST_SQL = (
    SELECT_SQL
    + "WHERE thread_id = :checkpoint_thread AND checkpoint_ns = '' "
    + "ORDER BY checkpoint_id DESC LIMIT 1"
)
_BLOBS = ARRAY(LargeBinary, dimensions=2)
_LATEST_COLUMNS = (
    ("thread_id", Text), ("checkpoint", JSONB), ("checkpoint_ns", Text), ("checkpoint_id", Text),
    ("parent_checkpoint_id", Text), ("metadata", JSONB), ("channel_values", _BLOBS),
    ("pending_writes", _BLOBS),
)  # fmt: skip


def latest_checkpoint() -> Subquery:
    """The thread's latest checkpoint as get_tuple reads it, for a statement to join (LEFT
    JOIN ... ON true; bind `checkpoint_thread`): a turn reads it with its start."""
    return (
        text(_LATEST_SQL)
        .bindparams(bindparam("checkpoint_thread", type_=Text))
        .columns(*(column(name, type_) for name, type_ in _LATEST_COLUMNS))
        .subquery("latest_checkpoint")
    )


class CheckpointAhead:
    """A thread's latest checkpoint row (None: it has none) read by another statement,
    which the checkpointer's next read of that thread takes instead of its own."""

    def __init__(self, thread_id: str, row: dict[str, Any] | None) -> None:
        self.thread_id = thread_id
        self.row = row
        self.taken = False

    @classmethod
    def of(cls, thread_id: str, values: Sequence[Any]) -> CheckpointAhead:
        """From latest_checkpoint's columns, in their order (all NULL: no checkpoint)."""
        row = dict(zip((name for name, _ in _LATEST_COLUMNS), values, strict=True))
        return cls(thread_id, row if row["checkpoint_id"] is not None else None)


_read_ahead: ContextVar[CheckpointAhead | None] = ContextVar("checkpoint_ahead", default=None)


@contextmanager
def read_ahead(checkpoint: CheckpointAhead | None) -> Iterator[None]:
    """Within this block (and this thread), LatestCheckpointSaver.get_tuple of the thread
    takes `checkpoint` once instead of a round trip. The caller holds what keeps the row
    current: for a turn, the conversation's lock, under which alone its graph writes."""
    token = _read_ahead.set(checkpoint)
    try:
        yield
    finally:
        _read_ahead.reset(token)
