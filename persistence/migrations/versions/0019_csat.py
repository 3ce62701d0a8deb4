"""csat: one survey per resolved conversation, its score and comment

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 18:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "csat_responses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.Integer(),
                  sa.ForeignKey("conversations.id", ondelete="CASCADE",
                                name=op.f("fk_csat_responses_conversation_id_conversations")),
                  nullable=False),
        sa.Column("merchant_id", sa.Integer(),
                  sa.ForeignKey("merchants.id", ondelete="CASCADE",
                                name=op.f("fk_csat_responses_merchant_id_merchants")),
                  nullable=False),
        sa.Column("operator_id", sa.Integer(),
                  sa.ForeignKey("operators.id", ondelete="SET NULL",
                                name=op.f("fk_csat_responses_operator_id_operators")),
                  nullable=True),
        sa.Column("ai_only", sa.Boolean(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", _TZ, nullable=True),
        sa.Column("created_at", _TZ, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_csat_responses_score")),
    )  # fmt: skip
    op.create_index(op.f("ix_csat_responses_conversation_id"), "csat_responses",
                    ["conversation_id", "created_at"])  # fmt: skip
    op.create_index(op.f("ix_csat_responses_merchant_id"), "csat_responses",
                    ["merchant_id", "created_at"])  # fmt: skip


def downgrade() -> None:
    op.drop_table("csat_responses")
