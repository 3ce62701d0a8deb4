"""Who conversations are with: customers in the conversation list and detail, the list's
customer and full-text filters, and the customers endpoints. Webhook in, API out."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event

from channels.simulators.webhooks import text_message_payload
from tests.conftest import ADMIN_TOKEN
from tests.helpers import load_payload, post_webhook

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MIA_USER_ID = "US.13491208655302741918"  # tests/data/message_text_bsuid_only.json


def _write(client, merchant, text, *, wa_id="15551234567", user_id=None, name="Ana"):
    payload = text_message_payload(
        phone_number_id=merchant["phone_number_id"], text=text, wa_id=wa_id, user_id=user_id,
        profile_name=name, timestamp=int(time.time()),
    )  # fmt: skip
    assert post_webhook(client, payload).status_code == 200


@pytest.fixture
def three_customers(client, merchant):
    _write(client, merchant, "Where is my parcel? It has not arrived", name="Ana Pérez")
    _write(client, merchant, "Do you sell trail shoes in size 44?", wa_id="34600111222",
           name="Jordi")  # fmt: skip
    assert post_webhook(client, load_payload("message_text_bsuid_only.json")).status_code == 200
    listed = client.get("/api/v1/conversations", headers=ADMIN).json()
    return {c["customer"]["name"]: c for c in listed}


def test_the_conversation_list_says_who_each_customer_is(client, three_customers):
    ana, mia = three_customers["Ana Pérez"], three_customers["Mia"]
    assert ana["channel"] == "whatsapp_cloud"
    assert ana["customer"] | {"id": 0} == {
        "id": 0, "wa_id": "15551234567", "user_id": None, "username": None, "name": "Ana Pérez",
    }  # fmt: skip
    assert mia["customer"]["wa_id"] is None
    assert mia["customer"]["user_id"] == MIA_USER_ID
    assert mia["customer"]["username"] == "mia.rose"
    assert ana["last_message"]["text"] == "Where is my parcel? It has not arrived"
    assert ana["last_message"]["direction"] == "in" and ana["last_message"]["author"] == "customer"
    assert ana["unanswered"] == 1
    detail = client.get(f"/api/v1/conversations/{ana['id']}", headers=ADMIN).json()
    assert detail["customer"] == ana["customer"] and detail["unanswered"] == 1
    assert [m["text"] for m in detail["messages"]] == ["Where is my parcel? It has not arrived"]


def test_unanswered_counts_customer_messages_since_our_last_reply(client, merchant):
    from persistence.db import session_scope
    from persistence.models import Direction
    from tests.factories import make_message

    _write(client, merchant, "first")
    (conversation,) = client.get("/api/v1/conversations", headers=ADMIN).json()
    with session_scope() as session:
        make_message(session, conversation_id=conversation["id"], text="Hello Ana!")
    _write(client, merchant, "second")
    _write(client, merchant, "third")
    with session_scope() as session:
        make_message(session, conversation_id=conversation["id"], direction=Direction.NOTE,
                     text="private")  # fmt: skip
    (listed,) = client.get("/api/v1/conversations", headers=ADMIN).json()
    assert listed["unanswered"] == 2
    assert listed["last_message"]["text"] == "third"  # notes are not the exchange


def _ids(client, **params):
    response = client.get("/api/v1/conversations", headers=ADMIN, params=params)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()]


def test_the_list_filters_by_phone_with_or_without_plus_and_by_user_id(client, three_customers):
    ana, jordi, mia = (three_customers[n]["id"] for n in ("Ana Pérez", "Jordi", "Mia"))
    assert _ids(client, customer="15551234567") == [ana]
    assert _ids(client, customer="+34600111222") == [jordi]
    assert _ids(client, customer=MIA_USER_ID) == [mia]
    assert _ids(client, customer="+10000000000") == []
    assert _ids(client, customer="15551234567", mode="operator") == []  # filters combine
    assert _ids(client, customer="15551234567", mode="ai", needs_human=False) == [ana]


def test_the_list_searches_message_text_and_customer_identity(client, three_customers):
    ana, jordi, mia = (three_customers[n]["id"] for n in ("Ana Pérez", "Jordi", "Mia"))
    assert _ids(client, q="parcel") == [ana]
    assert _ids(client, q="ARRIVED parcel") == [ana]  # every word, any order, any case
    assert _ids(client, q="trail shoes 44") == [jordi]
    assert _ids(client, q="username-only") == [mia]
    assert _ids(client, q="perez") == [ana]  # the name, accents ignored
    assert _ids(client, q="+346001") == [jordi]  # part of the number
    assert _ids(client, q="parcel", customer="34600111222") == []
    assert _ids(client, q="refund") == []
    assert set(_ids(client, q="shoes or parcel")) == {ana, jordi}
    assert _ids(client, q="shoes or parcel", limit=1, offset=1) != _ids(
        client, q="shoes or parcel", limit=1
    )


def test_a_better_match_ranks_first(client, merchant):
    _write(client, merchant, "shoes", wa_id="111")
    _write(client, merchant, "red shoes, red laces, red socks", wa_id="222")
    listed = client.get("/api/v1/conversations", headers=ADMIN, params={"q": "red or shoes"})
    assert [c["customer"]["wa_id"] for c in listed.json()] == ["222", "111"]


def test_the_list_is_one_statement_whatever_the_page(client, merchant):
    from persistence.db import get_engine

    for i in range(12):
        _write(client, merchant, f"question number {i}", wa_id=f"1555000{i:04d}")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "conversations" in statement:
            statements.append(statement)

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        listed = client.get("/api/v1/conversations", headers=ADMIN, params={"q": "question"})
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
    assert len(listed.json()) == 12
    assert len(statements) == 1


def test_bad_filters_get_a_clear_4xx(client, clean):
    bad = [
        {"customer": "x" * 129}, {"customer": "15 55"}, {"q": ""}, {"q": "x" * 201},
        {"limit": 0}, {"merchant_id": 0},
    ]  # fmt: skip
    for params in bad:
        response = client.get("/api/v1/conversations", headers=ADMIN, params=params)
        assert response.status_code == 422, params
    assert client.get("/api/v1/conversations/999999", headers=ADMIN).status_code == 404
    assert client.get("/api/v1/conversations").status_code == 401


def test_customers_are_searched_by_name_number_user_id_and_username(client, three_customers):
    def names(**params):
        response = client.get("/api/v1/customers", headers=ADMIN, params=params)
        assert response.status_code == 200, response.text
        return [c["name"] for c in response.json()]

    assert set(names()) == {"Ana Pérez", "Jordi", "Mia"}
    assert names(q="ana") == ["Ana Pérez"]
    assert names(q="PEREZ") == ["Ana Pérez"]
    assert names(q="+3460") == ["Jordi"]
    assert names(q="US.1349") == ["Mia"]
    assert names(q="@mia.ro") == ["Mia"]
    assert names(q="nobody") == []
    assert names(q="%") == []  # no wildcard injection
    assert len(names(limit=2)) == 2 and len(names(limit=2, offset=2)) == 1


def test_a_customer_comes_with_their_conversations_and_last_activity(client, three_customers):
    ana = three_customers["Ana Pérez"]
    (found,) = client.get("/api/v1/customers", headers=ADMIN, params={"q": "ana"}).json()
    assert found["id"] == ana["customer"]["id"] and found["wa_id"] == "15551234567"
    assert [c["id"] for c in found["conversations"]] == [ana["id"]]
    assert found["last_activity"] == found["conversations"][0]["last_activity"] is not None
    detail = client.get(f"/api/v1/customers/{found['id']}", headers=ADMIN)
    assert detail.status_code == 200 and detail.json() == found
    assert client.get("/api/v1/customers/999999", headers=ADMIN).status_code == 404
    assert client.get("/api/v1/customers/0", headers=ADMIN).status_code == 422
    assert client.get("/api/v1/customers", headers=ADMIN, params={"q": ""}).status_code == 422
    assert client.get("/api/v1/customers").status_code == 401


def _plan(stmt) -> str:
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    from persistence.db import session_scope

    compiled = stmt.compile(dialect=postgresql.dialect())
    with session_scope() as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))  # as if the tables were big
        rows = session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        return "\n".join(r[0] for r in rows)


def test_searches_can_use_their_indexes(three_customers):
    """The message search reads the indexed stored vector (migration 0026) and the customer
    search the trigram index's expression (0011), or PostgreSQL could only scan every
    message and customer."""
    from sqlalchemy import func, literal, literal_column, select

    from persistence.models import Customer, Message
    from services.conversations.search import MESSAGE_VECTOR
    from services.customers.identity import identity_contains

    # the message-matching part alone: in the whole list query the planner may, with the
    # suite's data, prefer reaching messages by conversation, which says nothing of the index
    query = func.websearch_to_tsquery(
        literal_column("'simple'"), func.switchboard_unaccent(literal("parcel"))
    )
    matching = select(Message.conversation_id).where(
        Message.text.is_not(None), MESSAGE_VECTOR.op("@@")(query)
    )
    assert "ix_messages_search_vector" in _plan(matching)
    assert "ix_customers_identity_trgm" in _plan(select(Customer).where(identity_contains("pere")))
