"""The fake Shopify store's catalog, rendered in each shape Shopify uses: GraphQL product
nodes, bulk-operation JSONL lines (children on their own lines with `__parentId`) and
REST webhook bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

JSON = dict[str, Any]
INVENTORY_ITEM_OFFSET = 5_000_000_000


@dataclass
class SimVariant:
    id: int
    price: str
    options: dict[str, str]  # {"Size": "42", "Color": "Red"}, in option order
    quantity: int | None = 10  # None: inventory not tracked
    sku: str | None = None
    compare_at_price: str | None = None
    position: int = 1

    @property
    def inventory_item_id(self) -> int:
        return INVENTORY_ITEM_OFFSET + self.id

    @property
    def title(self) -> str:
        return " / ".join(self.options.values()) or "Default Title"

    @property
    def available(self) -> bool:
        return self.quantity is None or self.quantity > 0


@dataclass
class SimProduct:
    id: int
    title: str
    variants: list[SimVariant]
    handle: str = ""
    status: str = "ACTIVE"
    description: str = ""
    product_type: str = ""
    vendor: str = "Acme"
    tags: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self.handle = self.handle or "-".join(self.title.lower().split())

    def touch(self) -> None:
        self.updated_at = max(datetime.now(UTC), self.updated_at + timedelta(milliseconds=1))

    def option_names(self) -> list[str]:
        return list(self.variants[0].options) if self.variants else []


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def variant_node(variant: SimVariant) -> JSON:
    return {
        "id": gid("ProductVariant", variant.id),
        "legacyResourceId": str(variant.id),
        "title": variant.title,
        "sku": variant.sku,
        "price": variant.price,
        "compareAtPrice": variant.compare_at_price,
        "inventoryQuantity": variant.quantity,
        "availableForSale": variant.available,
        "position": variant.position,
        "selectedOptions": [{"name": k, "value": v} for k, v in variant.options.items()],
        "inventoryItem": {
            "id": gid("InventoryItem", variant.inventory_item_id),
            "legacyResourceId": str(variant.inventory_item_id),
        },
    }


def _product_fields(product: SimProduct, shop_url: str) -> JSON:
    return {
        "id": gid("Product", product.id),
        "legacyResourceId": str(product.id),
        "title": product.title,
        "handle": product.handle,
        "description": product.description,
        "status": product.status,
        "productType": product.product_type,
        "vendor": product.vendor,
        "tags": product.tags,
        "updatedAt": _iso(product.updated_at),
        "onlineStoreUrl": f"{shop_url}/products/{product.handle}"
        if product.status == "ACTIVE"
        else None,
        "featuredImage": {"url": product.images[0]} if product.images else None,
    }


def product_node(product: SimProduct, shop_url: str) -> JSON:
    """A node of `products(...)`, with its connections nested as edges."""
    return {
        **_product_fields(product, shop_url),
        "images": {"edges": [{"node": {"url": url}} for url in product.images]},
        "collections": {"edges": []},
        "variants": {"edges": [{"node": variant_node(v)} for v in product.variants]},
    }


def bulk_lines(products: list[SimProduct], shop_url: str) -> str:
    lines: list[str] = []
    for product in products:
        parent = gid("Product", product.id)
        lines.append(json.dumps(_product_fields(product, shop_url)))
        for n, url in enumerate(product.images, start=1):
            image = {"id": gid("ProductImage", product.id * 100 + n), "url": url}
            lines.append(json.dumps({**image, "__parentId": parent}))
        for variant in product.variants:
            lines.append(json.dumps({**variant_node(variant), "__parentId": parent}))
    return "\n".join(lines) + "\n"


def rest_product(product: SimProduct) -> JSON:
    """The products/create and products/update webhook body."""
    names = product.option_names()
    return {
        "id": product.id,
        "admin_graphql_api_id": gid("Product", product.id),
        "title": product.title,
        "handle": product.handle,
        "body_html": f"<p>{product.description}</p>",
        "vendor": product.vendor,
        "product_type": product.product_type,
        "status": product.status.lower(),
        "tags": ", ".join(product.tags),
        "created_at": _iso(product.updated_at),
        "updated_at": _iso(product.updated_at),
        "options": [{"name": name, "position": n} for n, name in enumerate(names, start=1)],
        "images": [{"src": url, "position": n} for n, url in enumerate(product.images, 1)],
        "variants": [_rest_variant(product, v) for v in product.variants],
    }


def _rest_variant(product: SimProduct, variant: SimVariant) -> JSON:
    values = list(variant.options.values()) + [None, None, None]
    return {
        "id": variant.id,
        "product_id": product.id,
        "title": variant.title,
        "price": variant.price,
        "compare_at_price": variant.compare_at_price,
        "sku": variant.sku,
        "position": variant.position,
        "inventory_policy": "deny",
        "inventory_management": "shopify" if variant.quantity is not None else None,
        "inventory_quantity": variant.quantity,
        "inventory_item_id": variant.inventory_item_id,
        "option1": values[0],
        "option2": values[1],
        "option3": values[2],
    }


def rest_inventory_level(variant: SimVariant, when: datetime) -> JSON:
    return {
        "inventory_item_id": variant.inventory_item_id,
        "location_id": 24826418,
        "available": variant.quantity,
        "updated_at": _iso(when),
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/24826418?inventory_item_id="
        f"{variant.inventory_item_id}",
    }


_COLORS = ("Red", "Blue", "Black", "White", "Green")
_KINDS = ("Running Shoes", "Trail Shoes", "Sneakers", "Sandals", "Boots", "Socks", "T-Shirt")


def sample_catalog(count: int, *, first_id: int = 1001) -> list[SimProduct]:
    """`count` products with a few size/color variants each, deterministic."""
    products = []
    for n in range(count):
        color, kind = _COLORS[n % len(_COLORS)], _KINDS[(n // len(_COLORS)) % len(_KINDS)]
        product_id = first_id + n
        variants = [
            SimVariant(
                id=product_id * 100 + i,
                price=f"{40 + (n * 7) % 120}.00",
                options={"Size": size, "Color": color},
                quantity=(n + i) % 6,
                position=i + 1,
                sku=f"SKU-{product_id}-{size}",
            )  # fmt: skip
            for i, size in enumerate(("40", "41", "42", "43"))
        ]
        products.append(SimProduct(
            id=product_id, title=f"{color} {kind} {n}", variants=variants,
            product_type=kind, tags=[kind.lower(), color.lower()],
            images=[f"https://cdn.shopify.example/files/{product_id}.jpg"],
        ))  # fmt: skip
    return products
