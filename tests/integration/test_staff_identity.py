"""A WhatsApp identity that matches two staff members (one by the phone number, the other
by the username) is always the same one: the phone number's."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from persistence.db import session_scope
from persistence.models import Customer
from services.merchants.merchant import add_merchant_user, find_merchant_user
from tests.factories import make_conversation

pytestmark = pytest.mark.integration

PHONE, USERNAME = "15550001234", "alice.shop"


@pytest.mark.parametrize("scan", ["index", "seq"])
@pytest.mark.parametrize("phone_first", [True, False], ids=["phone first", "phone last"])
def test_the_phone_numbers_staff_member_is_the_one(merchant, phone_first, scan):
    """Whatever plan PostgreSQL picks: an index returns the phone number's first by chance
    (a username-only member's NULL wa_id sorts last), a table scan in the order added."""
    from services.turns.start import read_turn_start

    with session_scope() as session:
        added = [
            dict(name="By phone", wa_id=PHONE),
            dict(name="By username", user_id=USERNAME),
        ]
        for user in added if phone_first else added[::-1]:
            add_merchant_user(session, merchant_id=merchant["id"], **user)
        conversation = make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"], wa_id=PHONE
        )
        customer = session.get(Customer, conversation.customer_id)
        assert customer is not None
        customer.user_id = USERNAME
        conversation_id = conversation.id
    with session_scope() as session:
        if scan == "seq":
            session.execute(text("SET LOCAL enable_indexscan = off"))
            session.execute(text("SET LOCAL enable_bitmapscan = off"))
        found = find_merchant_user(session, merchant_id=merchant["id"], wa_id=PHONE,
                                   user_id=USERNAME)  # fmt: skip
        start = read_turn_start(session, conversation_id)
        assert found is not None and found.name == "By phone"
        assert start.staff is not None and start.staff.name == "By phone"


def test_a_business_account_two_merchants_share_is_always_the_first_ones(merchant):
    """A template's status update for an account two merchants name goes to one of them,
    the same one each time, whichever way the table is read."""
    from persistence.models import Merchant
    from services.merchants.merchant import create_merchant
    from services.templates.sync import merchant_of_account

    with session_scope() as session:
        second = create_merchant(session, name="Acme Shoes Outlet")
        for merchant_id in (second.id, merchant["id"]):  # the later one updated first
            found = session.get(Merchant, merchant_id)
            assert found is not None
            found.whatsapp_business_account_id = "waba-1"
    with session_scope() as session:
        session.execute(text("SET LOCAL enable_indexscan = off"))
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
        assert merchant_of_account(session, "waba-1") == min(merchant["id"], second.id)
