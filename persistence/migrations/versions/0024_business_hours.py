"""business hours: holidays, an away message and notification SLAs per merchant

Weekly hours and the time zone exist since 0005; holidays and the away message join them.
Notifications remember how far their SLA has gone (reminded, escalated, closed), so each
step happens once however often beat runs; a conversation remembers when it last got the
away message (once per closed period).

Revision ID: 0024
Revises: 0019
Create Date: 2026-11-30 20:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "merchants", sa.Column("holidays", JSONB(), nullable=False, server_default="[]")
    )
    op.add_column("merchants", sa.Column("away_message", sa.Text(), nullable=True))
    op.add_column(
        "merchants", sa.Column("notification_slas", JSONB(), nullable=False, server_default="{}")
    )
    op.add_column(
        "notifications",
        sa.Column("sla_stage", sa.SmallInteger(), nullable=False, server_default="0"),
    )
    op.add_column(
        "conversations", sa.Column("away_sent_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("conversations", "away_sent_at")
    op.drop_column("notifications", "sla_stage")
    op.drop_column("merchants", "notification_slas")
    op.drop_column("merchants", "away_message")
    op.drop_column("merchants", "holidays")
