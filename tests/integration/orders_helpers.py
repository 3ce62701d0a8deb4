"""Shared by the order tests: a tiny real SMTP server, the store, orders and messages."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from channels.simulators.shopify_orders import SimLine, SimOrder
from channels.simulators.webhooks import DEFAULT_WA_ID, text_message_payload
from tests.conftest import ADMIN_TOKEN
from tests.helpers import post_webhook

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
OTHER_WA_ID = "447700900123"
ORDER_EMAIL = "ana@example.com"


class Inbox:
    """An aiosmtpd handler that keeps every mail it is handed (real SMTP on the wire)."""

    def __init__(self) -> None:
        self.mails: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def code(self) -> str:
        match = re.search(r"\b(\d{6})\b", str(self.mails[-1].get_payload()))
        assert match, self.mails[-1].get_payload()
        return match.group(1)


def smtp_server() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def order_1001(**changes: Any) -> SimOrder:
    fields: dict[str, Any] = {
        "number": 1001, "email": ORDER_EMAIL, "phone": f"+{DEFAULT_WA_ID}",
        "lines": [SimLine("Red Running Shoes - 42", 1, "89.00", 100101)], "country": "US",
    }  # fmt: skip
    return SimOrder(**{**fields, **changes})


def connect_store(client: Any, merchant: dict, fakes: dict) -> None:
    body = {"shop_domain": fakes["shopify"].shop_domain,
            "access_token": fakes["shopify"].access_token}  # fmt: skip
    url = f"/api/v1/merchants/{merchant['id']}/shopify"
    assert client.post(url, headers=ADMIN, json=body).status_code == 201  # orders need no sync


def customer_writes(client: Any, merchant: dict, text: str, wa_id: str = DEFAULT_WA_ID) -> None:
    payload = text_message_payload(
        phone_number_id=merchant["phone_number_id"], text=text, wa_id=wa_id
    )
    assert post_webhook(client, payload).status_code == 200
