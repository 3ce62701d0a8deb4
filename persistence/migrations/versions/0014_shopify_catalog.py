"""a merchant's Shopify store and its catalog, searched in our database

- `shopify_stores`: one connected store per merchant (tokens encrypted), its shop facts and
  the state of its sync;
- `products` (full text in the shop's language, trigram index on the title for typos) and
  `product_variants` (options, prices, stock);
- `shopify_webhook_deliveries`: webhook ids seen, so Shopify's retries are no-ops;
- `phone_numbers.catalog_id`: the Meta catalog products are shown from as product cards.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 17:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VECTOR = (
    "setweight(to_tsvector(switchboard_ts_config(language), switchboard_unaccent(title)), 'A') "
    "|| setweight(to_tsvector(switchboard_ts_config(language), "
    "switchboard_unaccent(search_text)), 'B') "
    "|| setweight(to_tsvector(switchboard_ts_config(language), "
    "switchboard_unaccent(description)), 'C')"
)


def _merchant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["merchant_id"], ["merchants.id"],
        name=op.f(f"fk_{table}_merchant_id_merchants"), ondelete="CASCADE",
    )  # fmt: skip


def upgrade() -> None:
    op.add_column("phone_numbers", sa.Column("catalog_id", sa.String(length=64), nullable=True))
    op.create_table(
        "shopify_stores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("shop_domain", sa.String(length=255), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("storefront_access_token", sa.Text(), nullable=True),
        sa.Column("shop_name", sa.String(length=255), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("primary_locale", sa.String(length=16), nullable=False),
        sa.Column("storefront_url", sa.String(length=500), nullable=True),
        sa.Column("sync_status", sa.String(length=16), nullable=False),
        sa.Column("sync_products_done", sa.Integer(), nullable=False),
        sa.Column("sync_products_total", sa.Integer(), nullable=True),
        sa.Column("sync_error", sa.Text(), nullable=True),
        sa.Column("sync_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_full_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("webhook_ids", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        _merchant_fk("shopify_stores"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopify_stores")),
        sa.UniqueConstraint("merchant_id", name=op.f("uq_shopify_stores_merchant_id")),
        sa.UniqueConstraint("shop_domain", name=op.f("uq_shopify_stores_shop_domain")),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("shopify_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("handle", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("product_type", sa.String(length=255), nullable=False),
        sa.Column("vendor", sa.String(length=255), nullable=False),
        sa.Column("tags", postgresql.JSONB(), nullable=False),
        sa.Column("collections", postgresql.JSONB(), nullable=False),
        sa.Column("images", postgresql.JSONB(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(_VECTOR, persisted=True),
            nullable=False,
        ),
        sa.Column("shopify_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "synced_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        _merchant_fk("products"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint(
            "merchant_id", "shopify_id", name=op.f("uq_products_merchant_id_shopify_id")
        ),
    )
    op.create_index(
        "ix_products_search_vector", "products", ["search_vector"], postgresql_using="gin"
    )
    op.execute(
        "CREATE INDEX ix_products_title_trgm ON products "
        "USING gin (switchboard_unaccent(lower(title)) gin_trgm_ops)"
    )
    op.create_table(
        "product_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("shopify_id", sa.BigInteger(), nullable=False),
        sa.Column("inventory_item_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=True),
        sa.Column("options", postgresql.JSONB(), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("compare_at_price", sa.Numeric(12, 2), nullable=True),
        sa.Column("inventory_quantity", sa.Integer(), nullable=True),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("inventory_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_variants_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_variants")),
        sa.UniqueConstraint(
            "product_id", "shopify_id", name=op.f("uq_product_variants_product_id_shopify_id")
        ),
    )
    op.create_index(
        "ix_product_variants_inventory_item_id", "product_variants", ["inventory_item_id"]
    )
    op.create_table(
        "shopify_webhook_deliveries",
        sa.Column("webhook_id", sa.String(length=100), nullable=False),
        sa.Column("shop_domain", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("webhook_id", name=op.f("pk_shopify_webhook_deliveries")),
    )


def downgrade() -> None:
    op.drop_table("shopify_webhook_deliveries")
    op.drop_table("product_variants")
    op.drop_table("products")
    op.drop_table("shopify_stores")
    op.drop_column("phone_numbers", "catalog_id")
