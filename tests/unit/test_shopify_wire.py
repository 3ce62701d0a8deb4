"""Shopify's wire formats: webhook signatures, and products read from each shape Shopify
sends (GraphQL nodes, bulk JSONL, REST webhook bodies) into the same records."""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal

import pytest

from channels.shopify import webhook
from channels.shopify.records import (
    InvalidPayload,
    bulk_products,
    graphql_product,
    numeric_id,
    webhook_product,
)
from channels.simulators.shopify_catalog import (
    bulk_lines,
    product_node,
    rest_product,
    sample_catalog,
)

BODY = b'{"id": 1001, "title": "Red shoe"}'


def test_the_signature_is_base64_hmac_sha256_of_the_raw_body():
    expected = base64.b64encode(hmac.new(b"secret", BODY, hashlib.sha256).digest()).decode()
    assert webhook.sign(BODY, "secret") == expected
    assert webhook.verify(BODY, expected, "secret")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "not-base64",
        "é",
        webhook.sign(BODY, "other-secret"),
        webhook.sign(BODY + b" ", "secret"),
    ],  # fmt: skip
)
def test_a_missing_wrong_or_foreign_signature_is_refused(header):
    assert not webhook.verify(BODY, header, "secret")


def test_headers_are_required_and_named_when_missing():
    with pytest.raises(InvalidPayload, match="x-shopify-webhook-id"):
        webhook.parse({"x-shopify-topic": "products/update",
                       "x-shopify-shop-domain": "a.myshopify.com"}, BODY)  # fmt: skip


def test_ids_are_read_with_or_without_the_gid_prefix():
    assert numeric_id("gid://shopify/Product/1001") == numeric_id("1001") == 1001
    with pytest.raises(InvalidPayload):
        numeric_id("gid://shopify/Product/abc")


def test_graphql_bulk_and_webhook_shapes_read_into_the_same_product():
    [sim] = sample_catalog(1)
    from_graphql = graphql_product(product_node(sim, "https://shoes.example"))
    [from_bulk] = bulk_products(bulk_lines([sim], "https://shoes.example").splitlines())
    from_webhook = webhook_product(rest_product(sim))
    for record in (from_graphql, from_bulk, from_webhook):
        assert record.shopify_id == 1001 and record.status == "active"
        assert [v.shopify_id for v in record.variants] == [100100, 100101, 100102, 100103]
        assert record.variants[2].options == {"Size": "42", "Color": "Red"}
        assert record.variants[2].price == Decimal("40.00")
        assert record.images == ["https://cdn.shopify.example/files/1001.jpg"]
        assert record.variants[0].inventory_item_id == 5_000_100_100
    assert from_graphql.variants[0].available is False  # quantity 0
    assert from_webhook.variants[0].available is False
