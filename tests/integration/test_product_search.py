"""Product search over the synced catalog in the shop's language: stemming, accents and
typos forgiven, drafts and archived products never found, in-stock variants first."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from channels.shopify.records import ProductRecord, VariantRecord
from persistence.db import session_scope
from persistence.models import ShopifyStore
from services.commerce.catalog import upsert_product
from services.commerce.search import ProductQuery, search_products

pytestmark = pytest.mark.integration


def _record(product_id: int, title: str, *, status: str = "active", stock: int = 3,
            tags: tuple[str, ...] = ()) -> ProductRecord:  # fmt: skip
    variant = VariantRecord(shopify_id=product_id * 10, title="42", price=Decimal("50"),
                            options={"Talla": "42"}, inventory_quantity=stock,
                            available=stock > 0)  # fmt: skip
    return ProductRecord(shopify_id=product_id, title=title, handle=f"p{product_id}",
                         status=status, updated_at=datetime.now(UTC), tags=list(tags),
                         variants=[variant])  # fmt: skip


@pytest.fixture
def spanish_shop(merchant) -> int:
    with session_scope() as session:
        store = ShopifyStore(
            merchant_id=merchant["id"], shop_domain="zapatos.myshopify.com", access_token="t",
            shop_name="Zapatos", currency="EUR", primary_locale="es", webhook_ids={},
            sync_status="done", sync_products_done=0,
        )  # fmt: skip
        session.add(store)
        session.flush()
        for record in (
            _record(1, "Zapatillas de running rojas", tags=("correr",)),
            _record(2, "Camiseta técnica azul"),
            _record(3, "Zapatillas rojas de muestra", status="draft"),
            _record(4, "Zapatillas rojas agotadas", stock=0),
            _record(5, "Sandalias rojas archivadas", status="archived"),
        ):
            upsert_product(session, store, record)
    return merchant["id"]


def _found(merchant_id: int, text: str, **query: object) -> list[int]:
    with session_scope() as session:
        matches = search_products(session, merchant_id, ProductQuery(text=text, **query))  # type: ignore[arg-type]
        return [m.product.shopify_id for m in matches]


def test_spanish_stemming_finds_singular_for_plural(spanish_shop):
    assert _found(spanish_shop, "zapatilla roja") == [1]


def test_accents_and_typos_are_forgiven(spanish_shop):
    assert _found(spanish_shop, "camiseta tecnica") == [2]
    assert _found(spanish_shop, "zapatilas runing") == [1]


def test_drafts_and_archived_products_are_never_found(spanish_shop):
    assert 3 not in _found(spanish_shop, "muestra", in_stock_only=False)
    assert 5 not in _found(spanish_shop, "sandalias", in_stock_only=False)


def test_sold_out_products_come_only_when_asked_and_after_those_in_stock(spanish_shop):
    assert _found(spanish_shop, "zapatillas rojas") == [1]
    assert _found(spanish_shop, "zapatillas rojas", in_stock_only=False) == [1, 4]
