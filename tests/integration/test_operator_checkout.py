"""Operators and the cart: the console's conversation view shows the conversation's cart
(items, quantities, prices, total) beside the orders, and an operator who took the
conversation over sends a checkout link for it (API or console button): a WhatsApp
call-to-action URL button through the operator's outbound path. Storefront carts carry
the customer's phone as `buyerIdentity`, which the fake Shopify checks as Shopify does."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from channels.shopify.storefront import BuyerIdentity, Line
from persistence.db import session_scope
from persistence.models import Conversation, Message
from services.commerce.clients import storefront_client
from services.merchants.merchant import create_merchant
from services.merchants.operator import create_operator
from tests.conftest import ADMIN_TOKEN
from tests.integration.console_helpers import login, submit
from tests.integration.test_cart_checkout import _connect

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SPAIN = "34600112233"  # a valid Spanish mobile number: Shopify accepts it as a buyer's phone


@pytest.fixture
def store(stack, client, merchant, fakes) -> dict:
    return _connect(client, merchant, fakes, storefront=True)


@pytest.fixture
def filled(store, client, fakes) -> int:
    """The AI put 2 red 42 and a blue 42 in the cart of a customer writing from Spain."""
    from tests.integration.orders_helpers import customer_writes

    gemini = fakes["gemini"]
    gemini.call_tool("add_to_cart", {"variant_id": "100101", "quantity": 2})
    gemini.call_tool("add_to_cart", {"variant_id": "100200"})
    gemini.reply("Both are in your cart.")
    customer_writes(client, store, "2 red in 42 and a blue 42 please", wa_id=SPAIN)
    fakes["graph"].wait_for_sent(1, timeout=90)
    with session_scope() as session:
        return session.scalars(select(Conversation.id)).one()


def _checkout_link(client, conversation_id: int, headers=ADMIN):
    return client.post(f"/api/v1/conversations/{conversation_id}/checkout-link", headers=headers)


def test_an_operator_sees_the_cart_and_sends_its_checkout_link_after_takeover(
    client, filled, fakes
):
    cart = client.get(f"/api/v1/conversations/{filled}/cart", headers=ADMIN)
    assert cart.status_code == 200
    assert [(line["variant_id"], line["quantity"], line["line_total"])
            for line in cart.json()["lines"]] == [("100101", 2, "€178.00"),
                                                  ("100200", 1, "€79.00")]  # fmt: skip
    assert cart.json()["total"] == "€257.00"

    refused = _checkout_link(client, filled)  # the AI has the conversation
    assert refused.status_code == 409 and "take it over first" in refused.json()["detail"]
    assert fakes["shopify"].carts == [] and len(fakes["graph"].sent) == 1

    taken = client.post("/api/v1/takeover", headers=ADMIN, json={"conversation_id": filled})
    assert taken.status_code == 200
    sent = _checkout_link(client, filled)
    assert sent.status_code == 200, sent.text
    [made] = fakes["shopify"].carts
    assert sent.json()["url"] == made["checkoutUrl"]
    assert sent.json()["message"]["author"] == "operator"
    assert [(line["variant_id"], line["quantity"]) for line in made["lines"]] == [
        (100101, 2), (100200, 1)]  # fmt: skip
    assert made["attributes"] == {"switchboard_conversation_id": str(filled)}
    assert made["buyerIdentity"] == {"phone": f"+{SPAIN}", "countryCode": "ES"}
    _, button = fakes["graph"].wait_for_sent(2, timeout=30)
    assert button["to"] == SPAIN and button["type"] == "interactive"
    assert button["interactive"]["type"] == "cta_url"
    assert button["interactive"]["action"]["parameters"] == {
        "display_text": "Checkout", "url": made["checkoutUrl"]}  # fmt: skip
    assert button["interactive"]["body"]["text"].endswith("*Total: €257.00*")
    assert len(fakes["gemini"].requests) == 3  # the first turn's; operator mode: no AI since


def test_the_checkout_link_is_scoped_to_the_operators_merchant(client, filled, fakes):
    with session_scope() as session:
        other = create_merchant(session, name="Other Shop")
        _, token = create_operator(session, name="Otto", merchant_id=other.id)
    otto = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/conversations/{filled}/cart", headers=otto).status_code == 404
    assert _checkout_link(client, filled, otto).status_code == 404
    assert fakes["shopify"].carts == [] and len(fakes["graph"].sent) == 1


def test_an_empty_cart_has_no_checkout_link(client, store, fakes):
    from tests.integration.orders_helpers import customer_writes

    fakes["gemini"].reply("Hello!")
    customer_writes(client, store, "hi", wa_id=SPAIN)
    fakes["graph"].wait_for_sent(1, timeout=90)
    with session_scope() as session:
        conversation_id = session.scalars(select(Conversation.id)).one()
    client.post("/api/v1/takeover", headers=ADMIN, json={"conversation_id": conversation_id})
    refused = _checkout_link(client, conversation_id)
    assert refused.status_code == 404 and "the cart is empty" in refused.json()["detail"]
    assert fakes["shopify"].carts == []


def test_the_console_shows_the_cart_and_its_checkout_button_sends_the_link(
    client, filled, fakes, merchant
):
    with session_scope() as session:
        _, token = create_operator(session, name="Olga", merchant_id=merchant["id"])
    assert login(client, token).status_code == 303
    page = client.get(f"/console/conversations/{filled}").text
    assert "2 × Red Running Shoes (42) · €89.00 · €178.00" in page
    assert "1 × Blue Running Shoes (42) · €79.00" in page
    assert "Cart total: <strong>€257.00</strong>" in page
    assert "Send checkout link" not in page  # the AI has it: take over first
    submit(client, f"/console/conversations/{filled}/takeover")
    page = client.get(f"/console/conversations/{filled}").text
    assert f'action="/console/conversations/{filled}/checkout-link"' in page
    answer = submit(client, f"/console/conversations/{filled}/checkout-link")
    assert answer.status_code == 303
    [made] = fakes["shopify"].carts
    _, button = fakes["graph"].wait_for_sent(2, timeout=30)
    assert button["interactive"]["action"]["parameters"]["url"] == made["checkoutUrl"]
    with session_scope() as session:
        sent = session.scalars(select(Message).where(Message.type == "interactive")).one()
        assert sent.author == "operator" and sent.text.endswith("*Total: €257.00*")
    page = client.get(f"/console/conversations/{filled}").text
    assert f'href="{made["checkoutUrl"]}"' in page  # the cart's last link, beside it


def test_an_ai_checkout_prefills_the_buyer_only_with_a_valid_number(client, store, fakes):
    from tests.integration.orders_helpers import customer_writes

    gemini = fakes["gemini"]
    for _ in range(2):
        gemini.call_tool("add_to_cart", {"variant_id": "100101"})
        gemini.call_tool("checkout", {})
        gemini.reply("Tap the button to pay.")
    customer_writes(client, store, "one red 42, checkout please", wa_id=SPAIN)
    fakes["graph"].wait_for_sent(2, timeout=90)
    # +1 555 123 4567 is a fictional number: no buyer identity rather than a refusal
    customer_writes(client, store, "one red 42, checkout please")
    fakes["graph"].wait_for_sent(4, timeout=90)
    spain, fictional = fakes["shopify"].carts
    assert spain["buyerIdentity"] == {"phone": f"+{SPAIN}", "countryCode": "ES"}
    assert fictional["buyerIdentity"] == {}


def test_the_fake_shopify_refuses_a_malformed_buyer_and_the_cart_is_made_without_it(
    stack, fakes
):
    shopify = fakes["shopify"]
    from tests.integration.test_cart_checkout import CATALOG

    shopify.add(*CATALOG)
    client = storefront_client(shopify.shop_domain, shopify.storefront_token)
    lines, tag = [Line(100101, 1)], {"switchboard_conversation_id": "7"}
    url = client.create_cart(lines, tag, BuyerIdentity(phone="600 11 22 33", country_code="ES"))
    assert url == shopify.carts[-1]["checkoutUrl"] and shopify.carts[-1]["buyerIdentity"] == {}
    refused, retried = shopify.requests[-2:]
    assert refused["variables"]["input"]["buyerIdentity"]["phone"] == "600 11 22 33"
    assert "buyerIdentity" not in retried["variables"]["input"]
    answer = _raw_cart_create(shopify, {"phone": "+1 555", "countryCode": "ES"})
    assert answer["data"]["cartCreate"] == {"cart": None, "warnings": [], "userErrors": [
        {"field": ["input", "buyerIdentity", "phone"], "code": "INVALID",
         "message": "Phone is invalid"}]}  # fmt: skip
    answer = _raw_cart_create(shopify, {"phone": f"+{SPAIN}", "countryCode": "XX"})
    assert answer["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"
    client.create_cart(lines, tag, BuyerIdentity(phone=f"+{SPAIN}", country_code="XX"))
    assert shopify.carts[-1]["buyerIdentity"] == {}


def _raw_cart_create(shopify, identity: dict) -> dict:
    import httpx

    from channels.shopify.storefront import CART_CREATE
    from services.commerce.clients import api_base_url
    from settings import get_settings

    root = api_base_url(shopify.shop_domain)
    merchandise = "gid://shopify/ProductVariant/100101"
    body = {"query": CART_CREATE, "variables": {"input": {
        "lines": [{"merchandiseId": merchandise, "quantity": 1}], "buyerIdentity": identity}}}
    answer = httpx.post(
        f"{root}/api/{get_settings().shopify_api_version}/graphql.json", json=body,
        headers={"X-Shopify-Storefront-Access-Token": shopify.storefront_token},
    )  # fmt: skip
    return answer.json()
