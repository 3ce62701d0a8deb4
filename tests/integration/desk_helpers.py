"""Shared steps of the desk's integration tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from channels.simulators.webhooks import text_message_payload
from persistence.db import session_scope
from persistence.models import Conversation
from tests.conftest import ADMIN_TOKEN
from tests.helpers import post_webhook

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def make_operator(client: Any, name: str) -> dict:
    made = client.post("/api/v1/operators", headers=ADMIN, json={"name": name})
    assert made.status_code == 201, made.text
    body = made.json()
    return {**body, "headers": {"Authorization": f"Bearer {body['token']}"}}


def customer_writes(
    client: Any, merchant: dict, text: str = "hello", *, wa_id: str = "15551234567"
) -> None:
    payload = text_message_payload(
        phone_number_id=merchant["phone_number_id"], text=text, wa_id=wa_id
    )
    assert post_webhook(client, payload).status_code == 200


def conversation_of(wa_id: str = "15551234567") -> int:
    from persistence.models import Customer

    with session_scope() as session:
        stmt = select(Conversation.id).join(Customer, Customer.id == Conversation.customer_id)
        return session.scalars(stmt.where(Customer.wa_id == wa_id)).one()


def detail(client: Any, conversation_id: int, headers: dict = ADMIN) -> dict:
    response = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def listed_ids(client: Any, headers: dict = ADMIN, **params: str) -> list[int]:
    response = client.get("/api/v1/conversations", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()]
