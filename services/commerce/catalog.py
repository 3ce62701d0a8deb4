"""Writing the synced catalog: products and their variants from Shopify's records.

Shopify may deliver webhooks late, twice or out of order, and a full sync can overlap with
them: a record older than the row (`updatedAt` behind `shopify_updated_at`) changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from channels.shopify.records import InventoryLevel, ProductRecord, VariantRecord
from persistence.models import Product, ProductVariant, ShopifyStore
from services.commerce.queries import variants_by_inventory_item


def upsert_product(session: Session, store: ShopifyStore, record: ProductRecord) -> bool:
    """Store a product unless a newer version is stored already; True when written."""
    values = _product_values(store, record)
    stmt = insert(Product).values(merchant_id=store.merchant_id, **values)
    upsert = stmt.on_conflict_do_update(
        constraint="uq_products_merchant_id_shopify_id",
        set_={**values, "synced_at": stmt.excluded.synced_at},
        where=Product.shopify_updated_at <= stmt.excluded.shopify_updated_at,
    ).returning(Product.id)
    product_id = session.scalar(upsert)
    if product_id is None:
        return False  # stale: a newer version is stored
    _replace_variants(session, product_id, record.variants)
    return True


def _product_values(store: ShopifyStore, record: ProductRecord) -> dict[str, object]:
    url = record.url or (
        f"{store.storefront_url.rstrip('/')}/products/{record.handle}"
        if store.storefront_url
        else None
    )
    option_values = {value for v in record.variants for value in v.options.values()}
    search_text = " ".join(
        [record.product_type, record.vendor, *record.tags, *record.collections,
         *sorted(option_values)]
    )  # fmt: skip
    return {
        "shopify_id": record.shopify_id,
        "title": record.title[:500],
        "handle": record.handle[:500],
        "url": url,
        "description": record.description[:20000],
        "status": record.status,
        "product_type": record.product_type[:255],
        "vendor": record.vendor[:255],
        "tags": record.tags,
        "collections": record.collections,
        "images": record.images[:10],
        "language": store.primary_locale,
        "search_text": search_text,
        "shopify_updated_at": record.updated_at,
    }


def _replace_variants(session: Session, product_id: int, variants: list[VariantRecord]) -> None:
    keep = [v.shopify_id for v in variants]
    session.execute(
        delete(ProductVariant).where(
            ProductVariant.product_id == product_id, ProductVariant.shopify_id.not_in(keep)
        )
    )
    if not variants:
        return
    rows = [
        {
            "product_id": product_id, "shopify_id": v.shopify_id,
            "inventory_item_id": v.inventory_item_id, "title": v.title[:500], "sku": v.sku,
            "options": v.options, "price": v.price, "compare_at_price": v.compare_at_price,
            "inventory_quantity": v.inventory_quantity, "available": v.available,
            "position": v.position,
        }
        for v in variants
    ]  # fmt: skip
    stmt = insert(ProductVariant).values(rows)
    changed = ("inventory_item_id", "title", "sku", "options", "price", "compare_at_price",
               "inventory_quantity", "available", "position")  # fmt: skip
    session.execute(
        stmt.on_conflict_do_update(
            constraint="uq_product_variants_product_id_shopify_id",
            set_={name: stmt.excluded[name] for name in changed},
        )
    )


def delete_product(session: Session, merchant_id: int, shopify_id: int) -> bool:
    deleted = session.execute(
        delete(Product)
        .where(Product.merchant_id == merchant_id, Product.shopify_id == shopify_id)
        .returning(Product.id)
    ).first()
    return deleted is not None


def delete_unseen(session: Session, merchant_id: int, since: datetime) -> int:
    """After a full sync: products it did not see are gone from the store."""
    ids = session.scalars(
        select(Product.id).where(Product.merchant_id == merchant_id, Product.synced_at < since)
    ).all()
    if ids:
        session.execute(delete(Product).where(Product.id.in_(ids)))
    return len(ids)


def apply_inventory(session: Session, merchant_id: int, level: InventoryLevel) -> int:
    """A variant's stock from inventory_levels/update (one location: its `available` is the
    variant's quantity); an older update than the last one applied changes nothing."""
    changed = 0
    for variant in variants_by_inventory_item(session, merchant_id, level.inventory_item_id):
        if variant.inventory_updated_at and variant.inventory_updated_at >= level.updated_at:
            continue
        variant.inventory_quantity = level.available
        variant.available = level.available is None or level.available > 0
        variant.inventory_updated_at = level.updated_at
        changed += 1
    session.flush()
    return changed


def delete_all(session: Session, merchant_id: int) -> None:
    session.execute(delete(Product).where(Product.merchant_id == merchant_id))
