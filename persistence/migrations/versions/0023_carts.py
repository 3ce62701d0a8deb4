"""carts: a conversation's cart, its lines and its last checkout link

Revision ID: 0023
Revises: 0019
Create Date: 2026-11-30 20:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "carts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.Integer(),
                  sa.ForeignKey("conversations.id", ondelete="CASCADE",
                                name=op.f("fk_carts_conversation_id_conversations")),
                  nullable=False),
        sa.Column("merchant_id", sa.Integer(),
                  sa.ForeignKey("merchants.id", ondelete="CASCADE",
                                name=op.f("fk_carts_merchant_id_merchants")),
                  nullable=False),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("checkout_lines", postgresql.JSONB(), nullable=True),
        sa.Column("checked_out_at", _TZ, nullable=True),
        sa.Column("created_at", _TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", _TZ, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_carts_conversation_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_carts_merchant_id"), "carts", ["merchant_id"])
    op.create_table(
        "cart_lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cart_id", sa.Integer(),
                  sa.ForeignKey("carts.id", ondelete="CASCADE",
                                name=op.f("fk_cart_lines_cart_id_carts")),
                  nullable=False),
        sa.Column("variant_shopify_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.UniqueConstraint("cart_id", "variant_shopify_id",
                            name=op.f("uq_cart_lines_cart_id_variant_shopify_id")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_cart_lines_quantity")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("cart_lines")
    op.drop_table("carts")
