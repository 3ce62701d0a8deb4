"""merchants have a greeting and "things the AI must never do"; numbers keep their quality

The greeting and rules feed the agent's system prompt; existing merchants get empty text.
Meta's quality webhooks (account_update, phone_number_quality_update,
message_template_quality_update) are kept in account_events, and a number's latest quality
event and messaging limit on the number (the console warns while it is FLAGGED).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 18:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("merchants", sa.Column("greeting", sa.Text(), nullable=False, server_default=""))
    op.add_column("merchants", sa.Column("ai_rules", sa.Text(), nullable=False, server_default=""))
    op.add_column("phone_numbers", sa.Column("quality_event", sa.String(32), nullable=True))
    op.add_column("phone_numbers", sa.Column("messaging_limit", sa.String(32), nullable=True))
    op.create_table(
        "account_events",
        sa.Column("id", sa.Integer()),
        sa.Column(
            "merchant_id",
            sa.Integer(),
            sa.ForeignKey(
                "merchants.id", ondelete="CASCADE", name="fk_account_events_merchant_id_merchants"
            ),
            nullable=True,
        ),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("event", sa.String(64), nullable=True),
        sa.Column("payload", JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_account_events"),
    )


def downgrade() -> None:
    op.drop_table("account_events")
    op.drop_column("phone_numbers", "messaging_limit")
    op.drop_column("phone_numbers", "quality_event")
    op.drop_column("merchants", "ai_rules")
    op.drop_column("merchants", "greeting")
