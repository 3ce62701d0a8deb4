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

from langgraph.checkpoint.postgres import PostgresSaver
from psycopg import Connection
from psycopg.rows import DictRow
from psycopg_pool import ConnectionPool

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
