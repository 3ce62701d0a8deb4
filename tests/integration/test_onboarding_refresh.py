"""Embedded Signup again for a number already onboarded: the new code's business token
replaces the old one (encrypted), the subscription and registration are checked again
without registering twice, and nothing else changes."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from channels.simulators.graph_wire import GraphError
from persistence.db import session_scope
from persistence.models import MessageTemplate, PhoneNumber
from tests.conftest import ADMIN_TOKEN, SECRETS_KEY
from tests.integration import onboarding_helpers
from tests.integration.onboarding_helpers import NEW_NUMBER, NEW_TOKEN, WABA_ID, signup_body

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("meta_app")]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
URL = "/api/v1/onboarding/whatsapp"
FRESH_TOKEN = "EAAB-refreshed-business-token-77c0d2"
meta_app = onboarding_helpers.meta_app


def _stored_tokens() -> tuple[str, str]:
    """The ciphertexts at rest: the onboarding's and the number's."""
    with session_scope() as session:
        onboarded = session.execute(text("SELECT access_token FROM whatsapp_onboardings")).scalar()
        number = session.execute(text("SELECT access_token FROM phone_numbers")).scalar()
        return str(onboarded), str(number)


def _snapshot() -> tuple:
    with session_scope() as session:
        phone = session.scalars(select(PhoneNumber)).one()
        templates = session.scalars(select(MessageTemplate.id).order_by(MessageTemplate.id)).all()
        return (phone.id, phone.merchant_id, phone.display_phone_number, tuple(templates))


@pytest.fixture
def onboarded(client, clean, fakes) -> dict:
    fakes["graph"].onboarding.add_number(NEW_NUMBER, display_phone_number="15557654321")
    answer = client.post(URL, headers=ADMIN, json=signup_body(fakes))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_new_code_stores_the_new_token_encrypted_and_changes_nothing_else(
    client, fakes, onboarded
):
    graph = fakes["graph"]
    before, calls = _snapshot(), len(graph.onboarding.calls)
    code = graph.onboarding.issue_code(FRESH_TOKEN)

    again = client.post(URL, headers=ADMIN, json={**signup_body(fakes), "code": code})

    assert again.status_code == 200, again.text
    assert again.json() == onboarded and FRESH_TOKEN not in again.text
    for stored in _stored_tokens():
        assert FRESH_TOKEN not in stored
        assert Fernet(SECRETS_KEY).decrypt(stored.encode()).decode() == FRESH_TOKEN
    with session_scope() as session:
        assert session.scalars(select(PhoneNumber)).one().access_token == FRESH_TOKEN
    assert _snapshot() == before
    assert graph.onboarding.calls[calls:] == [
        "exchange", f"subscribe:{WABA_ID}", f"number:{NEW_NUMBER}"  # registered: not again
    ]
    assert len(client.get("/api/v1/merchants", headers=ADMIN).json()) == 1


def test_a_refused_new_code_keeps_the_old_token_and_the_number_onboarded(client, fakes, onboarded):
    body = {**signup_body(fakes), "code": "AQB-never-issued"}
    answer = client.post(URL, headers=ADMIN, json=body)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("refresh_token failed")
    assert answer.json()["status"] == "done"
    with session_scope() as session:
        assert session.scalars(select(PhoneNumber)).one().access_token == NEW_TOKEN


def test_a_failed_recheck_after_the_refresh_is_answered_and_the_new_token_kept(
    client, fakes, onboarded
):
    graph = fakes["graph"]
    graph.onboarding.fail_next("subscribe", GraphError(2))
    code = graph.onboarding.issue_code(FRESH_TOKEN)
    answer = client.post(URL, headers=ADMIN, json={**signup_body(fakes), "code": code})
    assert answer.status_code == 502
    assert answer.json()["detail"].startswith("subscribe_app failed")
    with session_scope() as session:
        assert session.scalars(select(PhoneNumber)).one().access_token == FRESH_TOKEN
