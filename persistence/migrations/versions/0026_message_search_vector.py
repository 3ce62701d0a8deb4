"""the inbox search stays fast with many conversations: message text gets a stored search
vector with its own GIN index

0011 indexed the expression `to_tsvector('simple', switchboard_unaccent(coalesce(text, '')))`.
The index finds the matching messages, but ranking them (`ts_rank`) computed the vector again
for every match, and a common word matches thousands of messages: 0.5 s of a 0.85 s search
over 10,000 conversations. A stored generated column holds the vector once per message, is
both matched (GIN) and ranked without recomputation, and gives the planner real statistics.
The expression index it replaces is dropped. Customers keep 0011's trigram index.

Adding a stored column rewrites `messages` (a lock for as long as that takes: run it in a
quiet hour on a large deployment).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 00:45:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Identical to persistence.models.Message.search_vector and to 0011's index expression.
MESSAGE_VECTOR = "to_tsvector('simple', switchboard_unaccent(coalesce(text, '')))"


def upgrade() -> None:
    op.execute(
        f"ALTER TABLE messages ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({MESSAGE_VECTOR}) STORED"
    )
    op.execute("CREATE INDEX ix_messages_search_vector ON messages USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_messages_text_search")


def downgrade() -> None:
    op.execute(
        f"CREATE INDEX ix_messages_text_search ON messages USING gin ({MESSAGE_VECTOR}) "
        "WHERE text IS NOT NULL"
    )
    op.execute("DROP INDEX IF EXISTS ix_messages_search_vector")
    op.drop_column("messages", "search_vector")
