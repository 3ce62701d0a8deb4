"""a turn's reads no longer scan the whole conversation: indexes for its notes, the message
before its burst and released messages in flight

Three statements of every turn read a conversation's messages by conditions no index
covered, so each walked all of them (about 0.9 ms of PostgreSQL time a turn at 600
messages, growing with the conversation): the operator, system and Business-app messages
since the last turn (`services/turns/input.py`), when the conversation last spoke before the
burst (the gap marker, same statement), and whether released messages are in flight
(`services/parking/parking.py` `releasing`, read at the turn's start). The first and last
are partial indexes over few rows; the second orders a conversation's messages by when they
were written, so the message before the burst is the first one read backwards.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-01 20:30:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_messages_notes ON messages (conversation_id, id) "
        "WHERE author IN ('operator', 'system', 'business_app')"
    )
    op.execute(
        "CREATE INDEX ix_messages_conversation_written ON messages "
        "(conversation_id, (coalesce(wa_timestamp, created_at)))"
    )
    op.execute(
        "CREATE INDEX ix_messages_parked_in_flight ON messages (conversation_id) "
        "WHERE status IN ('pending', 'sending') AND raw ? 'parked_at'"
    )


def downgrade() -> None:
    for index in ("ix_messages_parked_in_flight", "ix_messages_conversation_written",
                  "ix_messages_notes"):  # fmt: skip
        op.execute(f"DROP INDEX IF EXISTS {index}")
