"""A customer asks about their order end to end (webhook in, reply out): from the order's
phone they get status and tracking; from another number nothing is disclosed, neither to
them nor to the model; with the order's email a one-time code goes out over real SMTP and
echoing it back discloses the order; a wrong email answers exactly like no order at all."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from channels.simulators.shopify_orders import SimFulfillment
from tests.conftest import running_stack
from tests.helpers import eventually
from tests.integration.orders_helpers import (
    ORDER_EMAIL,
    OTHER_WA_ID,
    Inbox,
    connect_store,
    customer_writes,
    order_1001,
    smtp_server,
)

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]
NOT_FOUND = "I can't find an order with those details for you."


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    yield from smtp_server()


@pytest.fixture(scope="module")
def stack(servers, tmp_path_factory, smtp):
    _, port = smtp
    yield from running_stack(servers, tmp_path_factory, "orders", SMTP_HOST="127.0.0.1",
                             SMTP_PORT=str(port), SMTP_STARTTLS="false")  # fmt: skip


@pytest.fixture
def store(stack, client, merchant, fakes, smtp) -> dict:
    smtp[0].mails.clear()
    shipped = SimFulfillment(id=4400001, shipment_status="in_transit")
    fakes["shopify"].add_orders(order_1001(fulfillments=[shipped]))
    connect_store(client, merchant, fakes)
    return merchant


def _tool_output(gemini, request_number: int = 2) -> str:
    return gemini.tool_outputs(gemini.wait_for_requests(request_number, timeout=30)[-1])[-1]


def test_the_orders_own_phone_gets_status_items_and_tracking(client, store, fakes):
    gemini = fakes["gemini"]
    gemini.call_tool("lookup_order", {"order_number": "#1001"})
    gemini.reply("Your order #1001 is on its way with DHL Express.")
    customer_writes(client, store, "where is my order #1001?")

    [reply] = fakes["graph"].wait_for_sent(1, timeout=30)
    assert reply["text"]["body"].startswith("Your order #1001 is on its way")
    [order] = json.loads(_tool_output(gemini))["orders"]
    assert order["order_number"] == "#1001" and order["payment"] == "paid"
    first = gemini.requests[0]  # a connected store: the commerce tools and rules are offered
    assert {"lookup_order", "search_products", "checkout"} <= set(gemini.tool_names(first))
    assert "Their own orders: lookup_order" in gemini.system_text(first)
    assert order["items"] == [{"title": "Red Running Shoes - 42", "quantity": 1}]
    assert order["total"] == "€89.00"
    assert order["shipments"] == [{
        "status": "in_transit", "carrier": "DHL Express", "tracking_number": "JD014600003828",
        "tracking_url": "https://www.dhl.com/track?AWB=JD014600003828",
    }]  # fmt: skip


def test_another_number_learns_nothing_and_neither_does_the_model(client, store, fakes):
    gemini = fakes["gemini"]
    gemini.call_tool("lookup_order", {"order_number": "1001"})
    gemini.reply(NOT_FOUND)
    customer_writes(client, store, "where is order 1001?", wa_id=OTHER_WA_ID)

    [reply] = fakes["graph"].wait_for_sent(1, timeout=30)
    assert reply["text"]["body"] == NOT_FOUND
    output = _tool_output(gemini)
    assert NOT_FOUND in output
    for leak in ("DHL", "JD014600003828", "89", "Running", "paid", ORDER_EMAIL):
        assert leak not in output


def test_a_wrong_email_reads_exactly_like_an_order_that_does_not_exist(client, store, fakes, smtp):
    gemini = fakes["gemini"]
    for number, email in (("1001", "someone@else.com"), ("9999", "someone@else.com")):
        gemini.reset()
        gemini.call_tool("lookup_order", {"order_number": number, "email": email})
        gemini.reply("ok")
        before = len(fakes["graph"].sent)
        customer_writes(client, store, f"order {number}, email {email}", wa_id=OTHER_WA_ID)
        fakes["graph"].wait_for_sent(before + 1, timeout=30)
        outputs = gemini.tool_outputs(gemini.wait_for_requests(2, timeout=30)[-1])
        assert outputs[-1] == _code_sent_text()
    with_code = {"order_number": "1001", "email": "someone@else.com", "code": "123456"}
    gemini.reset()
    gemini.call_tool("lookup_order", with_code)
    gemini.reply("ok")
    customer_writes(client, store, "the code is 123456", wa_id=OTHER_WA_ID)
    assert NOT_FOUND in _tool_output(gemini)
    assert smtp[0].mails == []  # no mail to an address that is not the order's


def test_the_orders_email_gets_a_code_that_discloses_the_order(client, store, fakes, smtp):
    inbox, _ = smtp
    gemini = fakes["gemini"]
    gemini.call_tool("lookup_order", {"order_number": "#1001", "email": ORDER_EMAIL})
    gemini.reply("I sent a code to your email. Please write it here.")
    customer_writes(client, store, f"order #1001, my email is {ORDER_EMAIL}", wa_id=OTHER_WA_ID)
    fakes["graph"].wait_for_sent(1, timeout=30)
    assert _tool_output(gemini) == _code_sent_text()
    eventually(lambda: inbox.mails, timeout=10)
    [mail] = inbox.mails
    assert mail["To"] == ORDER_EMAIL and "#1001" in str(mail.get_payload())

    wrong = "000000" if inbox.code() != "000000" else "111111"
    for code, expected in ((wrong, NOT_FOUND), (inbox.code(), "JD014600003828")):
        gemini.reset()
        gemini.call_tool("lookup_order",
                         {"order_number": "#1001", "email": ORDER_EMAIL, "code": code})  # fmt: skip
        gemini.reply("Here is your order.")
        before = len(fakes["graph"].sent)
        customer_writes(client, store, f"the code is {code}", wa_id=OTHER_WA_ID)
        fakes["graph"].wait_for_sent(before + 1, timeout=30)
        assert expected in _tool_output(gemini)
    assert len(inbox.mails) == 1


def test_a_cancellation_opens_a_support_request_with_the_order(client, store, fakes):
    gemini = fakes["gemini"]
    change = {"order_number": "#1001", "request_type": "cancellation",
              "details": "ordered the wrong size"}  # fmt: skip
    gemini.call_tool("request_order_change", change)
    gemini.reply("A colleague will follow up here.")
    customer_writes(client, store, "please cancel order 1001, wrong size")
    fakes["graph"].wait_for_sent(1, timeout=30)
    assert "with the order attached" in _tool_output(gemini)
    notifications = client.get("/api/v1/notifications", headers={
        "Authorization": "Bearer test-admin-token"}).json()  # fmt: skip
    items = notifications["items"] if isinstance(notifications, dict) else notifications
    [request] = [n for n in items if n["type"] == "user_support_request"]
    reason = request["context"]["support_request_reason"]
    assert reason.startswith("Cancellation request for order #1001 (€89.00, paid")
    assert "1 x Red Running Shoes - 42" in reason and reason.endswith("ordered the wrong size")


def test_a_change_to_someone_elses_order_is_refused(client, store, fakes):
    gemini = fakes["gemini"]
    gemini.call_tool("request_order_change", {"order_number": "#1001",
                     "request_type": "address_change", "details": "send it to Paris"})  # fmt: skip
    gemini.reply("ok")
    customer_writes(client, store, "send order 1001 to Paris", wa_id=OTHER_WA_ID)
    fakes["graph"].wait_for_sent(1, timeout=30)
    assert _tool_output(gemini).startswith("Error: no order with that number")


def _code_sent_text() -> str:
    from services.commerce.orders import CODE_SENT_TEXT

    return CODE_SENT_TEXT
