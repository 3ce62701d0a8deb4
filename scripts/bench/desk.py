"""The desk at scale: 10,000 conversations with messages, labels, statuses and priorities
across 2 merchants, then the console inbox (default view, a filter, a search) and the
reports page and API timed through the app in this process, as a merchant's operator.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from scripts.bench.common import Deadline, percentiles

LABELS = ("vip", "refund", "shipping", "wholesale", "complaint", "returns")
WORDS = ("order", "parcel", "refund", "size", "colour", "delivery", "invoice", "discount",
         "exchange", "broken", "late", "address", "tracking", "payment", "voucher")  # fmt: skip
_LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')


def run(*, conversations: int, messages_each: int, requests: int, deadline: Deadline) -> dict:
    started = time.perf_counter()
    token = _seed(conversations, messages_each)
    seeded = time.perf_counter() - started
    deadline.check("seeding the desk")
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app()) as client:
        _login(client, token)
        today = datetime.now(UTC).date()
        pages: dict[str, Callable[[], Any]] = {
            "inbox_default": lambda: client.get("/console/inbox"),
            "inbox_filter_label": lambda: client.get("/console/inbox?label=refund"),
            "inbox_search": lambda: client.get("/console/inbox?q=tracking"),
            "reports_page": lambda: client.get("/console/reports"),
            "reports_api": lambda: client.get(
                "/api/v1/reports", params={"from": str(today - timedelta(days=29)),
                                           "to": str(today)},
                headers={"Authorization": f"Bearer {token}"},
            ),  # fmt: skip
        }
        figures = {}
        for name, call in pages.items():
            figures[name] = _timed(call, requests)
            deadline.check(f"timing {name}")
    return {
        "conversations": conversations,
        "messages": conversations * messages_each,
        "merchants": 2,
        "seed_seconds": seeded,
        "ms": figures,
    }


def _timed(call: Callable[[], Any], requests: int) -> dict[str, float | None]:
    response = call()  # warm caches once; a page that fails is an error, not a figure
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:200]}")
    latencies = []
    for _ in range(requests):
        began = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - began)
    return percentiles(latencies, 1000.0)


def _login(client: Any, token: str) -> None:
    form = client.get("/console/login")
    match = _LOGIN_CSRF.search(form.text)
    assert match, "no login form"
    client.post(
        "/console/login",
        data={"token": token, "login_csrf": match.group(1), "next": "/console/inbox"},
        follow_redirects=False,
    )


def _seed(conversations: int, messages_each: int) -> str:
    """Two merchants, half the conversations each; returns an operator token of the first."""
    from sqlalchemy import insert, select

    from persistence.db import session_scope
    from persistence.models import Conversation, Customer, Message
    from services.merchants.merchant import add_phone_number, create_merchant
    from services.merchants.operator import create_operator

    rng = random.Random(18)
    now = datetime.now(UTC)
    token = ""
    for index in range(2):
        with session_scope() as session:
            merchant = create_merchant(session, name=f"Desk Bench {index}")
            phone = add_phone_number(
                session, merchant_id=merchant.id, access_token="EAAG-bench",
                phone_number_id=f"9{index}0000{rng.randint(0, 9999)}",
            )  # fmt: skip
            if index == 0:
                _, token = create_operator(session, name="Olive", merchant_id=merchant.id)
            count = conversations // 2
            customers = [
                {"merchant_id": merchant.id, "wa_id": f"3460{index}{n:07d}",
                 "profile_name": f"Customer {n}"}
                for n in range(count)
            ]  # fmt: skip
            session.execute(insert(Customer), customers)
            ids = session.scalars(
                select(Customer.id).where(Customer.merchant_id == merchant.id).order_by(Customer.id)
            ).all()
            rows = [_conversation(rng, phone.id, customer_id, now) for customer_id in ids]
            session.execute(insert(Conversation), rows)
            conversation_ids = session.scalars(
                select(Conversation.id).where(Conversation.phone_number_id == phone.id)
            ).all()
            messages = [
                _message(rng, conversation_id, n, now)
                for conversation_id in conversation_ids
                for n in range(messages_each)
            ]
            for start in range(0, len(messages), 5000):
                session.execute(insert(Message), messages[start : start + 5000])
    return token


def _conversation(rng: random.Random, phone_id: int, customer_id: int, now: datetime) -> dict:
    last = now - timedelta(minutes=rng.randint(1, 60 * 24 * 30))
    status = rng.choices(("open", "pending", "resolved"), weights=(3, 1, 6))[0]
    return {
        "phone_number_id": phone_id,
        "customer_id": customer_id,
        "mode": rng.choices(("ai", "operator"), weights=(9, 1))[0],
        "needs_human": rng.random() < 0.1,
        "status": status,
        "priority": rng.choices(("low", "normal", "high", "urgent"), weights=(1, 8, 2, 1))[0],
        "labels": rng.sample(LABELS, k=rng.choice((0, 0, 1, 2))),
        "last_inbound_at": last,
        "resolved_at": last + timedelta(hours=1) if status == "resolved" else None,
    }


def _message(rng: random.Random, conversation_id: int, n: int, now: datetime) -> dict:
    inbound = n % 2 == 0
    return {
        "conversation_id": conversation_id,
        "direction": "in" if inbound else "out",
        "author": "customer" if inbound else "ai",
        "type": "text",
        "text": " ".join(rng.choices(WORDS, k=8)),
        "status": "received" if inbound else "delivered",
        "created_at": now - timedelta(minutes=rng.randint(1, 60 * 24 * 30)),
    }
