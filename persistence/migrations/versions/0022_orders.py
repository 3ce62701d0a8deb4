"""orders: orders seen in Shopify webhooks, one row per order update sent, one-time codes
for order lookups, and the customer's opt-out from order updates

Revision ID: 0022
Revises: 0019
Create Date: 2026-11-30 20:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", ondelete=ondelete,
                         name=op.f(f"fk_{table}_{column}_{target}"))  # fmt: skip


def upgrade() -> None:
    op.add_column("customers", sa.Column("order_updates_opt_out", sa.Boolean(),
                                         server_default=sa.text("false"), nullable=False))  # fmt: skip
    op.create_table(
        "shopify_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("merchant_id", sa.Integer(),
                  _fk("shopify_orders", "merchant_id", "merchants", "CASCADE"), nullable=False),
        sa.Column("shopify_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.Integer(),
                  _fk("shopify_orders", "conversation_id", "conversations", "SET NULL"),
                  nullable=True),
        sa.Column("customer_id", sa.Integer(),
                  _fk("shopify_orders", "customer_id", "customers", "SET NULL"), nullable=True),
        sa.Column("financial_status", sa.String(32), nullable=False),
        sa.Column("fulfillment_status", sa.String(32), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("tracking_url", sa.String(1000), nullable=True),
        sa.Column("placed_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("merchant_id", "shopify_id",
                            name=op.f("uq_shopify_orders_merchant_id_shopify_id")),
    )  # fmt: skip
    op.create_index("ix_shopify_orders_customer_id", "shopify_orders", ["customer_id"])
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("merchant_id", sa.Integer(),
                  _fk("order_events", "merchant_id", "merchants", "CASCADE"), nullable=False),
        sa.Column("shopify_order_id", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(100), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("message_id", sa.BigInteger(),
                  _fk("order_events", "message_id", "messages", "SET NULL"), nullable=True),
        sa.Column("created_at", _TZ, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("merchant_id", "shopify_order_id", "event",
                            name=op.f("uq_order_events_merchant_id_shopify_order_id_event")),
    )  # fmt: skip
    op.create_table(
        "order_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.Integer(),
                  _fk("order_codes", "conversation_id", "conversations", "CASCADE"),
                  nullable=False),
        sa.Column("shopify_order_id", sa.BigInteger(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("verified_at", _TZ, nullable=True),
        sa.Column("created_at", _TZ, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("conversation_id", "shopify_order_id",
                            name=op.f("uq_order_codes_conversation_id_shopify_order_id")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("order_codes")
    op.drop_table("order_events")
    op.drop_table("shopify_orders")
    op.drop_column("customers", "order_updates_opt_out")
