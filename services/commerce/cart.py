"""A conversation's cart: lines by Shopify variant id, checked against our synced catalog
(the variant exists in this merchant's store, its product is active, it is for sale, and
the quantity is within the stock when Shopify tracks it) and priced from it when read.

A cart belongs to one conversation and its merchant: another merchant's conversation or
variant is never found here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from channels.shopify.records import InvalidPayload, numeric_id
from persistence.models import Cart, CartLine, ProductVariant, ShopifyStore
from services.commerce.errors import StoreNotConnected
from services.commerce.money import format_price
from services.commerce.queries import (
    cart_of,
    merchant_of_conversation,
    store_of,
    variants_by_shopify_ids,
)
from services.errors import InvalidInput, NotFound

MAX_QUANTITY = 99
MAX_LINES = 30


@dataclass(frozen=True)
class LineView:
    variant_id: int
    product_id: int
    title: str
    options: dict[str, str]
    quantity: int
    unit_price: Decimal
    problem: str | None  # why it cannot be bought now (sold out, removed...)

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class CartView:
    lines: list[LineView]
    currency: str
    language: str
    checkout_url: str | None

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines if line.problem is None), Decimal(0))

    def price(self, amount: Decimal) -> str:
        return format_price(amount, self.currency, self.language)


def parse_variant_id(value: str) -> int:
    try:
        return numeric_id(value.strip())
    except InvalidPayload:
        message = f"not a variant id: {value!r}; use variant_id from search_products"
        raise InvalidInput(message) from None


def check_quantity(quantity: int) -> int:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"quantity must be between 1 and {MAX_QUANTITY}")
    return quantity


def add_to_cart(
    session: Session, *, conversation_id: int, merchant_id: int, variant_id: int, quantity: int
) -> CartView:
    """Add `quantity` of a variant (on top of what the cart has of it)."""
    check_quantity(quantity)
    store = _store(session, merchant_id)
    cart = _cart(session, conversation_id, merchant_id, create=True)
    line = next((line for line in cart.lines if line.variant_shopify_id == variant_id), None)
    wanted = quantity + (line.quantity if line else 0)
    _check_buyable(_variant(session, merchant_id, variant_id), wanted)
    if line is None:
        if len(cart.lines) >= MAX_LINES:
            raise InvalidInput(f"a cart holds at most {MAX_LINES} different items")
        cart.lines.append(CartLine(variant_shopify_id=variant_id, quantity=wanted))
    else:
        line.quantity = wanted
    session.flush()
    return _view(session, store, cart)


def remove_from_cart(
    session: Session, *, conversation_id: int, merchant_id: int, variant_id: int, quantity: int
) -> CartView:
    """Take `quantity` of a variant out; the line goes when none is left."""
    check_quantity(quantity)
    store = _store(session, merchant_id)
    cart = _cart(session, conversation_id, merchant_id, create=False)
    line = next((line for line in cart.lines if line.variant_shopify_id == variant_id), None)
    if line is None:
        raise NotFound(f"variant {variant_id} is not in the cart")
    if quantity >= line.quantity:
        cart.lines.remove(line)
    else:
        line.quantity -= quantity
    session.flush()
    return _view(session, store, cart)


def replace_cart(
    session: Session, *, conversation_id: int, merchant_id: int, lines: list[tuple[int, int]]
) -> tuple[CartView, list[str]]:
    """Make the cart exactly these (variant id, quantity) lines, leaving out (and saying
    why) those that cannot be bought; quantities above the stock are lowered to it."""
    store = _store(session, merchant_id)
    cart = _cart(session, conversation_id, merchant_id, create=True)
    variants = variants_by_shopify_ids(session, merchant_id, [v for v, _ in lines])
    cart.lines.clear()
    session.flush()
    skipped: list[str] = []
    for variant_id, quantity in lines[:MAX_LINES]:
        variant = variants.get(variant_id)
        kept = min(quantity, MAX_QUANTITY, _stock(variant) if variant else 0)
        reason = _problem(variant, max(kept, 1)) if quantity >= 1 else "quantity below 1"
        if reason is not None:
            skipped.append(f"{variant_id}: {reason}")
            continue
        cart.lines.append(CartLine(variant_shopify_id=variant_id, quantity=kept))
    session.flush()
    return _view(session, store, cart), skipped


def view_cart(session: Session, *, conversation_id: int, merchant_id: int) -> CartView:
    store = _store(session, merchant_id)
    cart = cart_of(session, conversation_id=conversation_id, merchant_id=merchant_id)
    if cart is None:
        return CartView([], store.currency, store.primary_locale, None)
    return _view(session, store, cart)


def cart_of_conversation(session: Session, conversation_id: int) -> CartView | None:
    """The conversation's cart as people see it (console, operator API); None when its
    merchant has no store connected."""
    merchant_id = merchant_of_conversation(session, conversation_id)
    if merchant_id is None or store_of(session, merchant_id) is None:
        return None
    return view_cart(session, conversation_id=conversation_id, merchant_id=merchant_id)


def _store(session: Session, merchant_id: int) -> ShopifyStore:
    store = store_of(session, merchant_id)
    if store is None:
        raise StoreNotConnected("this business has no online store connected")
    return store


def _cart(session: Session, conversation_id: int, merchant_id: int, *, create: bool) -> Cart:
    cart = cart_of(session, conversation_id=conversation_id, merchant_id=merchant_id)
    if cart is not None:
        return cart
    if not create or merchant_of_conversation(session, conversation_id) != merchant_id:
        raise NotFound("the cart is empty")
    cart = Cart(conversation_id=conversation_id, merchant_id=merchant_id, lines=[])
    session.add(cart)
    session.flush()
    return cart


def _variant(session: Session, merchant_id: int, variant_id: int) -> ProductVariant:
    variant = variants_by_shopify_ids(session, merchant_id, [variant_id]).get(variant_id)
    if variant is None:
        raise NotFound(f"no variant {variant_id} in the catalog; use ids from search_products")
    return variant


def _stock(variant: ProductVariant) -> int:
    tracked = variant.inventory_quantity
    return MAX_QUANTITY if tracked is None else max(tracked, 0)


def _problem(variant: ProductVariant | None, quantity: int) -> str | None:
    if variant is None:
        return "no longer in the catalog"
    if variant.product.status != "active":
        return "no longer sold"
    if not variant.available or _stock(variant) == 0:
        return "sold out"
    if quantity > _stock(variant):
        return f"only {_stock(variant)} left"
    return None


def _check_buyable(variant: ProductVariant, quantity: int) -> None:
    problem = _problem(variant, quantity)
    if problem is not None:
        raise InvalidInput(f"cannot add variant {variant.shopify_id}: {problem}")


def _view(session: Session, store: ShopifyStore, cart: Cart) -> CartView:
    ids = [line.variant_shopify_id for line in cart.lines]
    variants = variants_by_shopify_ids(session, store.merchant_id, ids)
    lines = [_line(line, variants.get(line.variant_shopify_id)) for line in cart.lines]
    return CartView(lines, store.currency, store.primary_locale, cart.checkout_url)


def _line(line: CartLine, variant: ProductVariant | None) -> LineView:
    return LineView(
        variant_id=line.variant_shopify_id,
        product_id=variant.product.shopify_id if variant else 0,
        title=variant.product.title if variant else f"variant {line.variant_shopify_id}",
        options={str(k): str(v) for k, v in (variant.options if variant else {}).items()},
        quantity=line.quantity,
        unit_price=variant.price if variant else Decimal(0),
        problem=_problem(variant, line.quantity),
    )
