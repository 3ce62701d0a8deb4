"""Shared steps of the degraded-mode tests: a merchant's FAQ, a customer's question through
the webhook, and what reached WhatsApp."""

from __future__ import annotations

import time
from typing import Any

from channels.simulators.webhooks import text_message_payload
from tests.conftest import ADMIN_TOKEN
from tests.helpers import post_webhook

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
HOURS_EN = "We are open **Monday to Friday**, 9:00 to 18:00, and Saturday 10:00 to 14:00."
HOURS_ES = "Abrimos de **lunes a viernes**, de 9:00 a 18:00, y el sábado de 10:00 a 14:00."
RETURNS = "You can return unworn shoes within 30 days of delivery for a full refund."


def add_faqs(client: Any, merchant: dict) -> None:
    """An English and a Spanish FAQ entry, a returns policy (not a FAQ), and a draft."""
    for title, content, language, category, status in (
        ("What are your opening hours?", HOURS_EN, "en", "faq", "published"),
        ("¿Cuál es vuestro horario de apertura?", HOURS_ES, "es", "faq", "published"),
        ("Returns policy", RETURNS, "en", "general", "published"),
        ("Do you ship to Mars?", "Yes, next week.", "en", "faq", "draft"),
    ):
        body = {"merchant_id": merchant["id"], "title": title, "content": content,
                "language": language, "category": category, "status": status}  # fmt: skip
        response = client.post("/api/v1/documents", headers=ADMIN, json=body)
        assert response.status_code in (200, 201), response.text


def ask(client: Any, merchant: dict, text: str, *, wa_id: str = "15551234567") -> None:
    payload = text_message_payload(
        phone_number_id=merchant["phone_number_id"], text=text, wa_id=wa_id,
        timestamp=int(time.time()),
    )  # fmt: skip
    assert post_webhook(client, payload).status_code == 200


def sent_texts(fakes: dict) -> list[str]:
    return [s["text"]["body"] for s in fakes["graph"].sent if "text" in s]


def conversation_of(client: Any, wa_id: str) -> dict:
    found = client.get("/api/v1/conversations", headers=ADMIN, params={"customer": wa_id})
    (listed,) = found.json()
    return client.get(f"/api/v1/conversations/{listed['id']}", headers=ADMIN).json()


def outbound_authors(conversation: dict) -> list[str]:
    return [m["author"] for m in conversation["messages"] if m["direction"] == "out"]
