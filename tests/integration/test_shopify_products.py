"""The AI finds and shows products end to end: a customer asks for red running shoes size
42 under 100, the model calls search_products and gets only what fits (in stock, active,
under budget, the right size and colour) with prices in the shop's currency, calls
send_products, and the Graph API receives the product photos with title, price and link.
A variant sold out by an inventory webhook is no longer offered."""

from __future__ import annotations

import json

import pytest

from channels.simulators.shopify_catalog import SimProduct, SimVariant
from channels.simulators.webhooks import text_message_payload
from tests.conftest import ADMIN_TOKEN
from tests.helpers import eventually, post_webhook

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ASK = {"query": "running shoes", "max_price": 100, "options": {"size": "42", "color": "red"}}


def _shoe(product_id: int, title: str, price: str, color: str, stock: dict[str, int],
          status: str = "ACTIVE") -> SimProduct:  # fmt: skip
    variants = [
        SimVariant(
            id=product_id * 100 + n,
            price=price,
            options={"Size": size, "Color": color},
            quantity=quantity,
            position=n + 1,
        )  # fmt: skip
        for n, (size, quantity) in enumerate(stock.items())
    ]
    return SimProduct(
        id=product_id, title=title, variants=variants, status=status,
        product_type="Running Shoes", tags=["running"],
        images=[f"https://cdn.shopify.example/files/{product_id}.jpg"],
    )  # fmt: skip


CATALOG = [
    _shoe(1001, "Red Running Shoes", "89.00", "Red", {"41": 2, "42": 3, "43": 0}),
    _shoe(1002, "Blue Running Shoes", "79.00", "Blue", {"42": 5}),
    _shoe(1003, "Red Trail Running Shoes", "129.00", "Red", {"42": 4}),  # over budget
    _shoe(1004, "Red Running Shoes Pro", "95.00", "Red", {"42": 9}, status="DRAFT"),
    _shoe(1005, "Red Running Shoes Lite", "59.00", "Red", {"42": 0, "43": 8}),  # 42 sold out
]


@pytest.fixture
def catalog(stack, client, merchant, fakes) -> dict:
    fakes["shopify"].add(*CATALOG)
    body = {"shop_domain": fakes["shopify"].shop_domain,
            "access_token": fakes["shopify"].access_token}  # fmt: skip
    url = f"/api/v1/merchants/{merchant['id']}/shopify"
    assert client.post(url, headers=ADMIN, json=body).status_code == 201

    def synced() -> bool:
        return client.get(url, headers=ADMIN).json()["sync_status"] == "done"

    eventually(synced, timeout=60)
    return merchant


def _customer_writes(client, merchant, text: str) -> None:
    payload = text_message_payload(phone_number_id=merchant["phone_number_id"], text=text)
    assert post_webhook(client, payload).status_code == 200


def test_the_model_finds_red_running_shoes_size_42_under_100_and_shows_them(client, catalog, fakes):
    gemini = fakes["gemini"]
    gemini.call_tool("search_products", ASK)
    gemini.call_tool("send_products", {"product_ids": ["1001"], "text": "Here they are"})
    gemini.reply("Size 42 is in stock. Shall I keep a pair for you?")
    _customer_writes(client, catalog, "do you have red running shoes in 42? under 100€")

    photo, text = fakes["graph"].wait_for_sent(2, timeout=30)
    found = json.loads(gemini.tool_outputs(gemini.wait_for_requests(2, timeout=20)[1])[0])
    assert [p["product_id"] for p in found["products"]] == ["1001"]
    [shoe] = found["products"]
    assert shoe["title"] == "Red Running Shoes" and shoe["price"] == "€89.00"
    assert shoe["url"] == "https://shoes.example/products/red-running-shoes"
    assert shoe["variants"] == [{"variant_id": "100101", "options": {"Size": "42", "Color": "Red"},
                                 "price": "€89.00", "stock": 3}]  # fmt: skip

    assert photo["type"] == "image"
    assert photo["image"]["link"] == "https://cdn.shopify.example/files/1001.jpg"
    caption = photo["image"]["caption"]
    assert caption.splitlines() == [
        "Here they are", "*Red Running Shoes*", "€89.00",
        "https://shoes.example/products/red-running-shoes",
    ]  # fmt: skip
    assert "shown to the customer as photos: 1001" in gemini.tool_outputs(gemini.requests[2])[-1]
    assert text["text"]["body"].startswith("Size 42 is in stock")
    assert "search_products" in gemini.system_text(gemini.requests[0])


def test_a_variant_sold_out_by_webhook_is_no_longer_offered(client, catalog, fakes):
    delivery = fakes["shopify"].inventory_webhook(100101, 0)
    body, headers = delivery
    assert client.post("/webhooks/shopify", content=body, headers=headers).status_code == 200
    gemini = fakes["gemini"]
    gemini.call_tool("search_products", ASK)
    gemini.reply("Sorry, size 42 is sold out right now.")
    _customer_writes(client, catalog, "red running shoes 42 under 100?")
    fakes["graph"].wait_for_sent(1, timeout=30)
    found = json.loads(gemini.tool_outputs(gemini.requests[1])[0])
    assert found["products"] == [] and "never guess" in found["note"]


def test_products_not_in_the_catalog_are_refused_with_a_reason(client, catalog, fakes):
    gemini = fakes["gemini"]
    gemini.call_tool("send_products", {"product_ids": ["gid://shopify/Product/1004", "999"]})
    gemini.reply("Let me look again.")
    _customer_writes(client, catalog, "show me the pro ones")
    fakes["graph"].wait_for_sent(1, timeout=30)
    output = gemini.tool_outputs(gemini.wait_for_requests(2, timeout=20)[1])[0]
    assert output.startswith("Error: no product 1004, 999 in the catalog")  # 1004 is a draft
    assert len(fakes["graph"].sent) == 1  # only the text reply


def test_without_a_connected_store_the_model_is_told_so(stack, client, merchant, fakes):
    gemini = fakes["gemini"]
    gemini.call_tool("search_products", {"query": "shoes"})
    gemini.reply("We have no online catalog here.")
    _customer_writes(client, merchant, "what shoes do you sell?")
    fakes["graph"].wait_for_sent(1, timeout=30)
    found = json.loads(gemini.tool_outputs(gemini.wait_for_requests(2, timeout=20)[1])[0])
    assert "no product catalog" in found["error"]


@pytest.fixture
def with_catalog(catalog) -> dict:
    """The number is linked to a Meta commerce catalog: products go as product cards."""
    from sqlalchemy import update

    from persistence.db import session_scope
    from persistence.models import PhoneNumber

    with session_scope() as session:
        session.execute(update(PhoneNumber).values(catalog_id="880011"))
    return catalog


def test_with_a_meta_catalog_several_products_go_as_a_product_list(client, with_catalog, fakes):
    gemini = fakes["gemini"]
    gemini.call_tool("send_products", {"product_ids": ["1001", "1005"], "text": "Two options"})
    gemini.reply("Tap one to see it.")
    _customer_writes(client, with_catalog, "red running shoes please")
    card, _ = fakes["graph"].wait_for_sent(2, timeout=30)
    assert card["type"] == "interactive"
    assert card["interactive"] == {
        "type": "product_list",
        "header": {"type": "text", "text": "Acme Shoes"},
        "body": {"text": "Two options"},
        "action": {"catalog_id": "880011", "sections": [{
            "title": "Acme Shoes",
            "product_items": [{"product_retailer_id": "100100"},  # cheapest in stock
                              {"product_retailer_id": "100501"}],  # 42 sold out: 43
        }]},
    }  # fmt: skip
    output = gemini.tool_outputs(gemini.wait_for_requests(2, timeout=20)[1])[0]
    assert output == "shown to the customer as catalog product cards: 1001, 1005"


def test_with_a_meta_catalog_one_product_goes_as_a_product_card(client, with_catalog, fakes):
    fakes["gemini"].call_tool("send_products", {"product_ids": ["1002"]})
    fakes["gemini"].reply("Here it is.")
    _customer_writes(client, with_catalog, "the blue ones")
    card, _ = fakes["graph"].wait_for_sent(2, timeout=30)
    assert card["interactive"] == {
        "type": "product", "body": {"text": "Blue Running Shoes"},
        "action": {"catalog_id": "880011", "product_retailer_id": "100200"},
    }  # fmt: skip


def test_a_product_card_meta_refuses_falls_back_to_photos(client, with_catalog, fakes):
    fakes["graph"].fail_next(code=131009, details="Product not found in catalog")
    fakes["gemini"].call_tool("send_products", {"product_ids": ["1002"]})
    fakes["gemini"].reply("Here it is.")
    _customer_writes(client, with_catalog, "the blue ones")
    photo, _ = fakes["graph"].wait_for_sent(2, timeout=30)
    assert photo["type"] == "image"
    assert photo["image"]["link"] == "https://cdn.shopify.example/files/1002.jpg"
    output = fakes["gemini"].tool_outputs(fakes["gemini"].wait_for_requests(2, timeout=20)[1])
    assert output == ["shown to the customer as photos: 1002"]
