"""a turn may open several notifications, each question once

Notifications were unique per (turn, type), so a second question in the same burst was
silently dropped. They are now unique per (turn, type, dedupe_key), where dedupe_key is a
question's normal form; existing rows get an empty key, which keeps them as they were.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 14:45:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "notifications",
        sa.Column("dedupe_key", sa.String(64), nullable=False, server_default=""),
    )
    op.drop_constraint("uq_notifications_turn_id_type", "notifications", type_="unique")
    op.create_unique_constraint(
        "uq_notifications_turn_id_type_dedupe_key",
        "notifications",
        ["turn_id", "type", "dedupe_key"],
    )


def downgrade() -> None:
    # the old rule allows one per (turn, type): later ones keep their data, not their turn
    op.execute("""
        UPDATE notifications n SET turn_id = NULL FROM notifications m
        WHERE n.turn_id = m.turn_id AND n.type = m.type AND n.id > m.id
    """)
    op.drop_constraint("uq_notifications_turn_id_type_dedupe_key", "notifications", type_="unique")
    op.create_unique_constraint(
        "uq_notifications_turn_id_type", "notifications", ["turn_id", "type"]
    )
    op.drop_column("notifications", "dedupe_key")
