"""The merchant's own templates (#17): every template of their WhatsApp Business Account is
imported by sync (all pages), listed for API users, offered in the console and sent by
operators with the exact Graph payload; what we cannot fill yet is refused with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from persistence.db import session_scope
from persistence.models import MessageTemplate
from services.merchants import merchant as merchants
from services.merchants.operator import create_operator
from services.templates import templates
from services.templates.defaults import TemplateRole
from tests.conftest import ADMIN_TOKEN
from tests.factories import make_template
from tests.helpers import operator_headers
from tests.integration.console_helpers import login, submit
from tests.integration.test_parking import (
    _close_window,
    _conversation_id,
    _say,
    _taken_over_on_day_two,
)

pytestmark = pytest.mark.integration

WABA = "102290129340398"
ORDER_BODY = "Hi {{1}}, your order {{2}} has shipped. Reply here with any question."
BUTTONS = {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Thanks"}]}


@pytest.fixture
def shop(merchant: dict, fakes: dict) -> dict:
    """The test merchant with its business account, our re-engagement template approved,
    and three templates of its own made in WhatsApp Manager."""
    with session_scope() as session:
        merchants.set_business_account(session, merchant["id"], WABA)
        make_template(session, merchant_id=merchant["id"], role=TemplateRole.CUSTOMER_REENGAGEMENT)
    store = fakes["graph"].message_templates
    store.add(WABA, "switchboard_reengagement", "en", "Hi! This is {{1}}. Answer this message.")
    store.add(WABA, "order_update", "en", ORDER_BODY, category="MARKETING",
              extra=[{"type": "FOOTER", "text": "Acme Shoes"}, BUTTONS])  # fmt: skip
    store.add(WABA, "order_ready", "en", "Your order {{1}} is ready for pickup today.",
              extra=[{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}])  # fmt: skip
    store.add(WABA, "new_collection", "en", "Our new collection is here, {{1}}!",
              extra=[{"type": "HEADER", "format": "IMAGE",
                      "example": {"header_handle": ["https://x.test/h.jpg"]}}])  # fmt: skip
    store.add(WABA, "draft_offer", "en", "A {{1}} offer for you.", status="PENDING")
    return merchant


def _sync(merchant_id: int) -> list[MessageTemplate]:
    with session_scope() as session:
        return templates.sync_templates(session, merchant_id=merchant_id)


def _rows(merchant_id: int) -> dict[str, MessageTemplate]:
    with session_scope() as session:
        found = session.scalars(
            select(MessageTemplate).where(MessageTemplate.merchant_id == merchant_id)
        )
        return {row.name: row for row in found}


@pytest.fixture
def operator(client, clean) -> dict:
    return operator_headers(client, ADMIN_TOKEN)


def _send_template(client, operator, ref, **template: Any):
    body = {**ref, "template": {"language": "en", **template}}
    return client.post("/api/v1/operator-message", headers=operator, json=body)


def test_sync_imports_every_template_of_the_business_account_across_pages(shop, fakes):
    store = fakes["graph"].message_templates
    for n in range(120):  # more than one page of 100
        store.add(WABA, f"seasonal_{n:03d}", "en", f"Season {n} starts now, {{{{1}}}}!")

    _sync(shop["id"])

    rows = _rows(shop["id"])
    assert len(rows) == 125 and rows["seasonal_119"].status == "APPROVED"
    lists = [r for r in fakes["graph"].requests
             if r.method == "GET" and r.path.endswith("/message_templates")]  # fmt: skip
    assert len(lists) == 2 and "after" in lists[1].query
    assert "components" in lists[0].query["fields"][0]
    order = rows["order_update"]
    assert (order.role, order.category, order.body) == (None, "MARKETING", ORDER_BODY)
    assert order.components[-1] == BUTTONS and rows["draft_offer"].status == "PENDING"

    store.set_status("order_update", "en", "PAUSED")
    _sync(shop["id"])  # again: statuses refreshed, nothing duplicated
    rows = _rows(shop["id"])
    assert len(rows) == 125 and rows["order_update"].status == "PAUSED"


def test_api_users_list_the_merchants_templates_with_their_parameter_count(client, shop, operator):
    _sync(shop["id"])
    url = f"/api/v1/templates?merchant_id={shop['id']}&status=APPROVED"
    listed = {t["name"]: t for t in client.get(url, headers=operator).json()}
    assert "draft_offer" not in listed and "switchboard_reengagement" in listed
    assert listed["order_update"] == {
        "name": "order_update", "language": "en", "status": "APPROVED",
        "category": "MARKETING", "header": None, "body": ORDER_BODY, "parameter_count": 2,
        "unsupported": None, "quality": None,
    }  # fmt: skip
    assert listed["order_ready"]["parameter_count"] == 2  # the header's, then the body's
    assert listed["new_collection"]["unsupported"] == (
        "template new_collection needs a header image: not supported yet"
    )
    assert client.get("/api/v1/templates", headers=operator).status_code == 422
    assert client.get("/api/v1/templates?merchant_id=999", headers=operator).status_code == 404


def test_an_operator_sends_the_merchants_own_template_outside_the_window(
    stack, client, shop, fakes, operator
):
    _sync(shop["id"])
    ref = _taken_over_on_day_two(client, shop, fakes, operator)

    sent = _send_template(client, operator, ref, name="order_update", parameters=["Ana", "#1001"])

    assert sent.status_code == 200, sent.text
    assert sent.json()["message"]["status"] == "accepted"
    assert sent.json()["message"]["text"] == ORDER_BODY.replace("{{1}}", "Ana").replace(
        "{{2}}", "#1001"
    )
    assert fakes["graph"].sent[-1]["template"] == {
        "name": "order_update",
        "language": {"code": "en"},
        "components": [
            {"type": "body", "parameters": [
                {"type": "text", "text": "Ana"}, {"type": "text", "text": "#1001"},
            ]},
        ],
    }  # fmt: skip


def test_a_template_with_a_text_header_gets_its_header_parameter(
    stack, client, shop, fakes, operator
):
    _sync(shop["id"])
    ref = _taken_over_on_day_two(client, shop, fakes, operator)

    sent = _send_template(
        client, operator, ref, name="order_ready", parameters=["#1001"], header_parameters=["#1001"]
    )

    assert sent.status_code == 200, sent.text
    assert sent.json()["message"]["status"] == "accepted"
    assert fakes["graph"].sent[-1]["template"]["components"] == [
        {"type": "header", "parameters": [{"type": "text", "text": "#1001"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "#1001"}]},
    ]
    missing = _send_template(client, operator, ref, name="order_ready", parameters=["#1001"])
    assert missing.status_code == 422 and "1 header parameter" in missing.json()["detail"]


def test_a_template_with_a_header_image_is_refused_with_the_reason(
    stack, client, shop, fakes, operator
):
    _sync(shop["id"])
    ref = _taken_over_on_day_two(client, shop, fakes, operator)
    before = len(fakes["graph"].sent)

    refused = _send_template(client, operator, ref, name="new_collection", parameters=["Ana"])

    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "template new_collection needs a header image: not supported yet"
    )
    assert len(fakes["graph"].sent) == before


def test_the_console_template_picker_lists_the_merchants_own_templates(client, shop, fakes):
    _sync(shop["id"])
    with session_scope() as session:
        _, token = create_operator(session, name="Olga")
    assert login(client, token).status_code == 303
    _say(client, shop, fakes, "hello")
    page = f"/console/conversations/{_conversation_id()}"
    submit(client, f"{page}/takeover")
    _close_window()
    html = client.get(page).text
    assert 'value="order_update|en" data-body="Hi {{1}}, your order {{2}} has shipped.' in html
    assert "order_update (en, 2 parameters)" in html
    assert "new_collection (en, 1 parameter: not supported yet)" in html
    assert "draft_offer" not in html
