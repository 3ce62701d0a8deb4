"""Order updates end to end (Shopify webhook in, WhatsApp message out): one message per
order event, in the customer's window as text and outside it as a template; a repeated or
re-sent webhook sends nothing more; the checkout's conversation is found by the cart
attribute; "stop" is respected until "start"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from channels.simulators.shopify_orders import SimFulfillment
from persistence.db import session_scope
from persistence.models import Conversation, OrderEvent
from tests.conftest import ADMIN_TOKEN, running_stack
from tests.helpers import eventually
from tests.integration.console_helpers import login
from tests.integration.orders_helpers import (
    OTHER_WA_ID,
    connect_store,
    customer_writes,
    order_1001,
)

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]
TRACKING = "https://www.dhl.com/track?AWB=JD014600003828"


@pytest.fixture(scope="module")
def stack(servers, tmp_path_factory):
    # no auto-resolve: a conversation whose window closed stays open (and unsurveyed)
    yield from running_stack(servers, tmp_path_factory, "order_updates", AUTO_RESOLVE_HOURS="0")


@pytest.fixture
def store(stack, client, merchant, fakes) -> dict:
    fakes["shopify"].add_orders(order_1001())
    connect_store(client, merchant, fakes)
    return merchant


@pytest.fixture
def chatting(store, client, fakes) -> int:
    """The customer wrote and was answered: their window is open. The conversation's id."""
    fakes["gemini"].reply("Hello!")
    customer_writes(client, store, "hello there")
    fakes["graph"].wait_for_sent(1, timeout=90)  # the module's first turn starts a cold worker
    with session_scope() as session:
        return session.scalars(select(Conversation.id)).one()


def _post(client, delivery) -> str:
    body, headers = delivery
    response = client.post("/webhooks/shopify", content=body, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["outcome"])


def _outcomes() -> dict[str, str | None]:
    with session_scope() as session:
        return {e.event.split(":")[0]: e.outcome for e in session.scalars(select(OrderEvent))}


def _shipped(fakes, **changes) -> tuple[bytes, dict[str, str]]:
    fulfillment = SimFulfillment(id=4400001, **changes)
    return fakes["shopify"].fulfillment_webhook("fulfillments/create", 1001, fulfillment,
                                                webhook_id="wh-ship-1")  # fmt: skip


def test_a_shipment_inside_the_window_is_one_message_even_when_shopify_repeats_it(
    client, chatting, fakes
):
    assert _post(client, _shipped(fakes)) == "applied"
    assert _post(client, _shipped(fakes)) == "duplicate"  # the same delivery, retried
    resent = fakes["shopify"].fulfillment_webhook(
        "fulfillments/create", 1001, SimFulfillment(id=4400001), webhook_id="wh-ship-2"
    )
    assert _post(client, resent) == "duplicate"  # a new delivery of the same event
    _, shipped = fakes["graph"].wait_for_sent(2, timeout=30)
    assert shipped["type"] == "text"
    assert shipped["text"]["body"] == (
        f"Good news: your order #1001 is on its way with DHL Express. Track it here: {TRACKING}"
        "\n\nReply STOP to stop order updates."
    )
    # a later event of the same order is the next message: nothing else went in between
    assert _post(client, fakes["shopify"].order_webhook("orders/cancelled", 1001)) == "applied"
    sent = fakes["graph"].wait_for_sent(3, timeout=30)
    assert sent[2]["text"]["body"].startswith("Your order #1001 has been cancelled.")
    assert [m["text"]["body"].count("on its way") for m in sent] == [0, 1, 0]
    assert _outcomes() == {"shipped": "sent", "cancelled": "sent"}


def test_outside_the_window_a_shipment_goes_as_the_order_shipped_template(
    client, chatting, fakes
):
    with session_scope() as session:
        session.execute(update(Conversation).values(
            last_inbound_at=datetime.now(UTC) - timedelta(days=2)))  # fmt: skip
    assert _post(client, _shipped(fakes)) == "applied"
    _, template = fakes["graph"].wait_for_sent(2, timeout=30)
    assert template["type"] == "template"
    assert template["template"]["name"] == "switchboard_order_shipped"
    [body] = template["template"]["components"]
    assert [p["text"] for p in body["parameters"]] == ["Acme Shoes", "#1001", TRACKING]
    assert _outcomes() == {"shipped": "template"}


def test_the_carts_conversation_attribute_finds_the_customer_for_a_new_order(
    client, chatting, fakes
):
    # placed with another phone: only the cart's attribute links it to this conversation
    order = order_1001(number=1002, phone=f"+{OTHER_WA_ID}",
                       attributes={"switchboard_conversation_id": str(chatting)})  # fmt: skip
    fakes["shopify"].add_orders(order)
    assert _post(client, fakes["shopify"].order_webhook("orders/create", 1002)) == "applied"
    assert _post(client, fakes["shopify"].order_webhook("orders/paid", 1002)) == "applied"
    _, confirmed = fakes["graph"].wait_for_sent(2, timeout=30)
    assert confirmed["text"]["body"].startswith(
        "Thank you for your order #1002! Total: €89.00. We'll let you know here when it ships."
    )
    # the order was paid when placed: the confirmation said it all, orders/paid adds nothing
    eventually(lambda: _outcomes() == {"confirmed": "sent", "paid": "skipped"}, timeout=30)
    assert len(fakes["graph"].sent) == 2
    login(client, ADMIN_TOKEN)  # the console's conversation view lists the customer's order
    page = client.get(f"/console/conversations/{chatting}").text
    assert "Order #1002 · " in page and "89.00 EUR · paid, unfulfilled" in page


def test_an_order_nobody_here_placed_sends_nothing(client, store, fakes):
    fakes["shopify"].add_orders(order_1001(number=1003, phone="+14155550100"))
    assert _post(client, fakes["shopify"].order_webhook("orders/create", 1003)) == "applied"
    eventually(lambda: _outcomes() == {"confirmed": "no_customer"}, timeout=30)
    assert fakes["graph"].sent == []


def test_stop_is_respected_until_start(client, chatting, fakes):
    customer_writes(client, chatting_merchant(client), "STOP")
    _, stopped = fakes["graph"].wait_for_sent(2, timeout=30)
    assert stopped["text"]["body"].startswith("Done: you won't get order updates here any more")
    assert _post(client, _shipped(fakes)) == "applied"
    eventually(lambda: _outcomes() == {"shipped": "opted_out"}, timeout=30)

    customer_writes(client, chatting_merchant(client), "start")
    _, _, started = fakes["graph"].wait_for_sent(3, timeout=30)
    assert started["text"]["body"] == "Done: you'll get updates about your orders here again."
    assert _post(client, fakes["shopify"].order_webhook("orders/cancelled", 1001)) == "applied"
    cancelled = fakes["graph"].wait_for_sent(4, timeout=30)[3]
    assert cancelled["text"]["body"].startswith("Your order #1001 has been cancelled.")
    assert len(fakes["gemini"].requests) == 1  # neither "stop" nor "start" reached the model


def chatting_merchant(client) -> dict:
    from tests.conftest import PHONE_NUMBER_ID

    return {"phone_number_id": PHONE_NUMBER_ID}


# every other order event: (topic, shipment status, the text inside the window, the news in
# the order_update template outside it)
EVENTS = {
    "paid": ("orders/paid", None,
             "We have received the payment for your order #1001. Thank you!",
             "we have received your payment"),
    "cancelled": ("orders/cancelled", None,
                  "Your order #1001 has been cancelled. Any questions? Just reply here.",
                  "it has been cancelled"),
    "in_transit": ("fulfillments/update", "in_transit",
                   f"Your order #1001 is in transit with DHL Express. Track it here: {TRACKING}",
                   "it is in transit"),
    "out_for_delivery": ("fulfillments/update", "out_for_delivery",
                         "Your order #1001 is out for delivery today.",
                         "it is out for delivery today"),
    "delivered": ("fulfillments/update", "delivered",
                  "Your order #1001 has been delivered. Enjoy!", "it has been delivered"),
}  # fmt: skip


def _event(fakes, kind: str, webhook_id: str) -> tuple[bytes, dict[str, str]]:
    topic, shipment, _, _ = EVENTS[kind]
    if shipment is None:
        return fakes["shopify"].order_webhook(topic, 1001, webhook_id=webhook_id)
    fulfillment = SimFulfillment(id=4400001, shipment_status=shipment)
    return fakes["shopify"].fulfillment_webhook(topic, 1001, fulfillment, webhook_id=webhook_id)


def _pending_order(fakes) -> None:
    """Order #1001 not paid yet (so orders/paid is news)."""
    fakes["shopify"].add_orders(order_1001(financial_status="pending"))


def _close_window() -> None:
    with session_scope() as session:
        session.execute(update(Conversation).values(
            last_inbound_at=datetime.now(UTC) - timedelta(days=2)))  # fmt: skip


@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_each_order_event_inside_the_window_is_one_message_in_words(
    client, chatting, fakes, kind
):
    _pending_order(fakes)
    assert _post(client, _event(fakes, kind, f"wh-{kind}-1")) == "applied"
    assert _post(client, _event(fakes, kind, f"wh-{kind}-1")) == "duplicate"  # retried
    assert _post(client, _event(fakes, kind, f"wh-{kind}-2")) == "duplicate"  # replayed
    _, sent = fakes["graph"].wait_for_sent(2, timeout=30)
    assert sent["type"] == "text"
    assert sent["text"]["body"] == f"{EVENTS[kind][2]}\n\nReply STOP to stop order updates."
    eventually(lambda: _outcomes() == {kind: "sent"}, timeout=30)
    assert len(fakes["graph"].sent) == 2  # the hello's answer and this one, nothing more


@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_each_order_event_outside_the_window_is_the_order_update_template(
    client, chatting, fakes, kind
):
    _pending_order(fakes)
    _close_window()
    assert _post(client, _event(fakes, kind, f"wh-{kind}-1")) == "applied"
    assert _post(client, _event(fakes, kind, f"wh-{kind}-2")) == "duplicate"
    _, template = fakes["graph"].wait_for_sent(2, timeout=30)
    assert template["type"] == "template"
    assert template["template"]["name"] == "switchboard_order_update"
    assert template["template"]["language"]["code"] == "en"
    [body] = template["template"]["components"]
    assert [p["text"] for p in body["parameters"]] == ["Acme Shoes", "#1001", EVENTS[kind][3]]
    eventually(lambda: _outcomes() == {kind: "template"}, timeout=30)
    assert len(fakes["graph"].sent) == 2


def test_a_shipment_without_tracking_outside_the_window_still_reaches_the_customer(
    client, chatting, fakes
):
    _close_window()
    assert _post(client, _shipped(fakes, tracking_number=None, tracking_url=None)) == "applied"
    _, template = fakes["graph"].wait_for_sent(2, timeout=30)
    assert template["template"]["name"] == "switchboard_order_update"
    [body] = template["template"]["components"]
    assert [p["text"] for p in body["parameters"]] == ["Acme Shoes", "#1001", "it has shipped"]


def test_a_customer_who_said_stop_gets_no_delivery_update(client, chatting, fakes):
    customer_writes(client, chatting_merchant(client), "stop")
    fakes["graph"].wait_for_sent(2, timeout=30)
    _close_window()
    assert _post(client, _event(fakes, "delivered", "wh-delivered-1")) == "applied"
    assert _post(client, _event(fakes, "paid", "wh-paid-1")) == "applied"
    eventually(lambda: _outcomes() == {"delivered": "opted_out", "paid": "opted_out"}, timeout=30)
    assert len(fakes["graph"].sent) == 2
