"""Prices in the shop's currency and language, and which variants fit a customer's options."""

from __future__ import annotations

from decimal import Decimal

import pytest

from persistence.models import Product, ProductVariant
from services.commerce.money import format_price
from services.commerce.search import ProductQuery, match_product


@pytest.mark.parametrize(
    ("amount", "currency", "language", "shown"),
    [
        ("89", "EUR", "en", "€89.00"),
        ("89.5", "EUR", "es", "89,50 €"),
        ("1234.5", "USD", "en", "$1,234.50"),
        ("1234.5", "EUR", "de", "1.234,50 €"),
        ("1234.5", "EUR", "fr", "1\u202f234,50 €"),
        ("1999", "JPY", "en", "¥1,999"),
        ("19.999", "GBP", "en", "£20.00"),
        ("10", "XYZ", "en", "10.00 XYZ"),
        ("10", "BRL", "pt-BR", "10,00 R$"),
    ],
)
def test_prices_are_written_as_the_shops_customers_read_them(amount, currency, language, shown):
    assert format_price(Decimal(amount), currency, language) == shown


def _shoe(title: str = "Trail Runner", **stock: int) -> Product:
    product = Product(shopify_id=1, title=title, search_text="running shoes red", status="active")
    product.variants = [
        ProductVariant(
            shopify_id=10 + n,
            options={"Size": size.removeprefix("s"), "Colour": "Red"},
            price=Decimal("80.00") + n,
            available=quantity > 0,
            inventory_quantity=quantity,
            position=n,
        )  # fmt: skip
        for n, (size, quantity) in enumerate(stock.items())
    ]
    return product


def _ids(product: Product, **query: object) -> list[int] | None:
    match = match_product(product, ProductQuery(text="shoes", **query), 0.5)  # type: ignore[arg-type]
    return [v.shopify_id for v in match.variants] if match else None


def test_option_names_and_values_match_loosely():
    shoe = _shoe(s41=1, s42=2)
    assert _ids(shoe, options={"size": "42"}) == [11]
    assert _ids(shoe, options={"Talla": "42", "color": "RED"}) == [11]  # synonyms, case


def test_a_size_the_product_lacks_in_stock_is_no_match_unless_sold_out_is_asked_for():
    shoe = _shoe(s41=1, s42=0)
    assert _ids(shoe, options={"size": "42"}) is None
    assert _ids(shoe, options={"size": "42"}, in_stock_only=False) == [11]


def test_the_budget_filters_variants():
    shoe = _shoe(s41=1, s42=1)  # 80.00 and 81.00
    assert _ids(shoe, max_price=Decimal("80.50")) == [10]
    assert _ids(shoe, max_price=Decimal("79")) is None


def test_an_option_the_product_lacks_counts_when_its_words_hold_it():
    shoe = _shoe(s42=1)
    for variant in shoe.variants:
        variant.options = {"Size": "42"}  # no colour option: "red" is in its words
    red = match_product(shoe, ProductQuery(text="", options={"color": "red"}), 0.1)
    blue = match_product(shoe, ProductQuery(text="", options={"color": "blue"}), 0.1)
    assert red is not None and blue is not None
    assert red.exact_options > blue.exact_options  # blue still shown, ranked lower
