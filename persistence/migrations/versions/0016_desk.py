"""the desk: conversation status, priority, labels, assignee; canned responses; notes

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 17:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    add = op.add_column
    add("conversations", sa.Column("status", sa.String(16), server_default="open", nullable=False))
    add("conversations",
        sa.Column("priority", sa.String(16), server_default="normal", nullable=False))
    add("conversations", sa.Column("labels", postgresql.JSONB(), server_default="[]",
                                   nullable=False))  # fmt: skip
    add("conversations", sa.Column("assignee_id", sa.Integer(), nullable=True))
    add("conversations", sa.Column("resolved_at", _TZ, nullable=True))
    add("conversations", sa.Column("resolved_by", sa.String(200), nullable=True))
    op.create_foreign_key(
        op.f("fk_conversations_assignee_id_operators"), "conversations", "operators",
        ["assignee_id"], ["id"], ondelete="SET NULL",
    )  # fmt: skip
    op.create_index(op.f("ix_conversations_assignee_id"), "conversations", ["assignee_id"])
    add("operators", sa.Column("last_seen_at", _TZ, nullable=True))
    add("operators", sa.Column("last_assigned_at", _TZ, nullable=True))
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("merchant_id", sa.Integer(),
                  sa.ForeignKey("merchants.id", ondelete="CASCADE",
                                name=op.f("fk_canned_responses_merchant_id_merchants")),
                  nullable=False),
        sa.Column("shortcut", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", _TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", _TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
        sa.UniqueConstraint("merchant_id", "shortcut",
                            name=op.f("uq_canned_responses_merchant_id_shortcut")),
    )  # fmt: skip
    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(),
                  sa.ForeignKey("conversations.id", ondelete="CASCADE",
                                name=op.f("fk_conversation_notes_conversation_id_conversations")),
                  nullable=False),
        sa.Column("merchant_id", sa.Integer(),
                  sa.ForeignKey("merchants.id", ondelete="CASCADE",
                                name=op.f("fk_conversation_notes_merchant_id_merchants")),
                  nullable=False),
        sa.Column("operator_id", sa.Integer(),
                  sa.ForeignKey("operators.id", ondelete="SET NULL",
                                name=op.f("fk_conversation_notes_operator_id_operators")),
                  nullable=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("for_ai", sa.Boolean(), nullable=False),
        sa.Column("message_id", sa.BigInteger(),
                  sa.ForeignKey("messages.id", ondelete="SET NULL",
                                name=op.f("fk_conversation_notes_message_id_messages")),
                  nullable=True),
        sa.Column("created_at", _TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_notes")),
    )  # fmt: skip
    op.create_index(op.f("ix_conversation_notes_conversation_id"), "conversation_notes",
                    ["conversation_id"])  # fmt: skip


def downgrade() -> None:
    op.drop_table("conversation_notes")
    op.drop_table("canned_responses")
    op.drop_column("operators", "last_assigned_at")
    op.drop_column("operators", "last_seen_at")
    op.drop_index(op.f("ix_conversations_assignee_id"), table_name="conversations")
    op.drop_constraint(op.f("fk_conversations_assignee_id_operators"), "conversations")
    for column in ("resolved_by", "resolved_at", "assignee_id", "labels", "priority", "status"):
        op.drop_column("conversations", column)
