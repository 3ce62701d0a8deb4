"""The graph's checkpointer: each conversation keeps only its latest checkpoint.

A turn needs no older state (the database keeps the full record): each `put` deletes the
thread's older checkpoints, their pending writes and the blobs the new one no longer
references, in one statement right after the write. It replaces langgraph's
`prune(strategy="keep_latest")` (16 statements over three tables, in a transaction of its
own) for a graph without subgraphs or delta channels, which is ours. A worker killed
between the write and the prune leaves an older checkpoint behind; the next turn's write
removes it.
"""

from __future__ import annotations

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata
from langgraph.checkpoint.postgres import PostgresSaver

# Only older rows go (checkpoint ids grow with time), and a blob only when the kept
# checkpoint holds a newer version of its channel or no longer has the channel: whatever
# another writer of the thread put meanwhile would survive (turns never overlap anyway).
# The kept checkpoint loses its parent, as with langgraph's prune.
_KEEP_LATEST_SQL = """
WITH writes AS (
    DELETE FROM checkpoint_writes
    WHERE thread_id = %(thread)s AND checkpoint_ns = %(ns)s AND checkpoint_id < %(id)s
), blobs AS (
    DELETE FROM checkpoint_blobs b
    WHERE b.thread_id = %(thread)s AND b.checkpoint_ns = %(ns)s AND NOT EXISTS (
        SELECT 1 FROM unnest(%(channels)s::text[], %(versions)s::text[]) AS k(channel, version)
        WHERE k.channel = b.channel AND k.version <= b.version
    )
), orphan AS (
    UPDATE checkpoints SET parent_checkpoint_id = NULL
    WHERE thread_id = %(thread)s AND checkpoint_ns = %(ns)s AND checkpoint_id = %(id)s
      AND parent_checkpoint_id IS NOT NULL
)
DELETE FROM checkpoints
WHERE thread_id = %(thread)s AND checkpoint_ns = %(ns)s AND checkpoint_id < %(id)s
"""


class LatestCheckpointSaver(PostgresSaver):
    """PostgresSaver keeping one checkpoint per thread and namespace: the latest."""

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        saved = super().put(config, checkpoint, metadata, new_versions)
        versions = checkpoint["channel_versions"]
        params = {
            "thread": str(config["configurable"]["thread_id"]),
            "ns": config["configurable"].get("checkpoint_ns", ""),
            "id": checkpoint["id"],
            "channels": list(versions),
            "versions": [str(version) for version in versions.values()],
        }
        with self._cursor() as cur:
            cur.execute(_KEEP_LATEST_SQL, params)
        return saved
