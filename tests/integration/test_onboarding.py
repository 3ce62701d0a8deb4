"""Self-serve onboarding (Embedded Signup): from Meta's code to the first AI reply on the
new number, each step recorded, resumable and harmless to repeat."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from channels.simulators.graph_wire import GraphError, bearer_token
from channels.simulators.webhooks import text_message_payload
from persistence.db import session_scope
from persistence.models import MessageTemplate, PhoneNumber
from tests.conftest import ADMIN_TOKEN, SECRETS_KEY
from tests.helpers import operator_headers, post_webhook
from tests.integration import onboarding_helpers
from tests.integration.onboarding_helpers import (
    META_APP_SECRET,
    NEW_NUMBER,
    NEW_TOKEN,
    WABA_ID,
    signup_body,
)

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
URL = "/api/v1/onboarding/whatsapp"
meta_app = onboarding_helpers.meta_app  # the fixture, for usefixtures below


def _steps(body: dict) -> dict[str, str]:
    return {step["name"]: step["status"] for step in body["steps"]}


def _stored_secrets() -> tuple[str, str]:
    with session_scope() as session:
        row = session.execute(text("SELECT access_token, pin FROM whatsapp_onboardings")).one()
        return row[0], row[1]


@pytest.mark.usefixtures("meta_app")
def test_a_number_onboarded_from_a_code_answers_its_first_customer_with_the_new_token(
    stack, client, clean, fakes, caplog
):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="httpx")  # an earlier configure() quiets it
    graph = fakes["graph"]
    graph.onboarding.add_number(
        NEW_NUMBER, display_phone_number="15557654321", verified_name="Sunrise Bakery"
    )
    signup = signup_body(fakes)
    answer = client.post(URL, headers=ADMIN, json=signup)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "done" and set(_steps(body).values()) == {"done"}
    assert (body["display_phone_number"], body["verified_name"]) == (
        "15557654321",
        "Sunrise Bakery",
    )
    assert (body["quality_rating"], body["messaging_limit"]) == ("GREEN", "TIER_250")
    assert NEW_TOKEN not in answer.text

    (merchant,) = client.get("/api/v1/merchants", headers=ADMIN).json()
    assert merchant["id"] == body["merchant_id"] and merchant["name"] == "Sunrise Bakery"
    assert merchant["whatsapp_business_account_id"] == WABA_ID
    assert [n["phone_number_id"] for n in merchant["phone_numbers"]] == [NEW_NUMBER]
    assert graph.onboarding.subscribed == {WABA_ID: 1}
    token, pin = _stored_secrets()  # ciphertext at rest; the PIN is the one registered
    assert (
        NEW_TOKEN not in token and Fernet(SECRETS_KEY).decrypt(token.encode()) == NEW_TOKEN.encode()
    )
    assert (
        Fernet(SECRETS_KEY).decrypt(pin.encode()).decode()
        == graph.onboarding.numbers[NEW_NUMBER].pin
    )
    with session_scope() as session:
        templates = session.scalars(select(MessageTemplate)).all()
        assert templates and {t.merchant_id for t in templates} == {merchant["id"]}

    fakes["gemini"].reply("Fresh bread every morning!")
    inbound = text_message_payload(phone_number_id=NEW_NUMBER, text="are you open?")
    assert post_webhook(client, inbound).status_code == 200
    sent = graph.wait_for_sent(1, timeout=30)
    assert sent[0]["text"]["body"] == "Fresh bread every morning!"
    sends = [r for r in graph.requests if r.path.endswith(f"/{NEW_NUMBER}/messages")]
    assert sends and {bearer_token(r) for r in sends} == {NEW_TOKEN}

    calls = list(graph.onboarding.calls)
    again = client.post(URL, headers=ADMIN, json=signup)  # the browser posting twice
    assert again.status_code == 200 and again.json() == body
    assert graph.onboarding.calls == calls  # nothing asked of Meta again
    assert len(client.get("/api/v1/merchants", headers=ADMIN).json()) == 1
    for where in (caplog.text, stack.worker_log()):
        assert NEW_TOKEN not in where and META_APP_SECRET not in where
    assert "client_secret=[redacted]&code=[redacted]" in caplog.text  # httpx's request line


@pytest.mark.usefixtures("meta_app")
def test_a_failed_step_is_named_and_a_retry_resumes_from_it(client, clean, fakes):
    graph = fakes["graph"]
    graph.onboarding.add_number(NEW_NUMBER)
    graph.onboarding.fail_next("subscribe", GraphError(2))
    first = client.post(URL, headers=ADMIN, json=signup_body(fakes))
    assert first.status_code == 502, first.text
    failed = first.json()
    assert failed["status"] == "failed"
    assert _steps(failed) == {
        "exchange_code": "done", "subscribe_app": "failed", "register_number": "pending",
        "read_number": "pending", "save_merchant": "pending", "provision_templates": "pending",
    }  # fmt: skip
    assert failed["detail"].startswith("subscribe_app failed")
    assert "Service temporarily unavailable" in failed["detail"]
    assert client.get("/api/v1/merchants", headers=ADMIN).json() == []

    second = client.post(URL, headers=ADMIN, json=signup_body(fakes))
    assert second.status_code == 200, second.text
    assert second.json()["status"] == "done" and second.json()["detail"] is None
    assert graph.onboarding.calls.count("exchange") == 1  # the first token was kept
    assert graph.onboarding.calls.count(f"subscribe:{WABA_ID}") == 2


@pytest.mark.usefixtures("meta_app")
def test_a_number_with_its_own_pin_is_refused_clearly_until_the_pin_is_given(client, clean, fakes):
    number = fakes["graph"].onboarding.add_number(NEW_NUMBER, pin="424242")
    first = client.post(URL, headers=ADMIN, json=signup_body(fakes))
    assert first.status_code == 422, first.text
    detail = first.json()["detail"]
    assert detail.startswith("register_number failed")
    assert "two-step verification PIN" in detail and "WhatsApp Manager" in detail
    assert "Two step verification PIN Mismatch" in detail  # Meta's own words

    second = client.post(URL, headers=ADMIN, json=signup_body(fakes, pin="424242"))
    assert second.status_code == 200, second.text
    assert number.status == "CONNECTED" and number.pin == "424242"


@pytest.mark.usefixtures("meta_app")
def test_an_already_registered_number_is_not_registered_again(client, clean, fakes):
    fakes["graph"].onboarding.add_number(NEW_NUMBER, pin="111111", status="CONNECTED")
    answer = client.post(URL, headers=ADMIN, json=signup_body(fakes))
    assert answer.status_code == 200, answer.text
    assert _steps(answer.json())["register_number"] == "done"
    assert f"register:{NEW_NUMBER}" not in fakes["graph"].onboarding.calls


@pytest.mark.usefixtures("meta_app")
def test_the_registration_rate_limit_says_when_to_come_back(client, clean, fakes):
    fakes["graph"].onboarding.add_number(NEW_NUMBER)
    fakes["graph"].onboarding.fail_next("register", GraphError(133016))
    answer = client.post(URL, headers=ADMIN, json=signup_body(fakes))
    assert answer.status_code == 502
    assert "10 registration attempts per number in 72 hours" in answer.json()["detail"]


@pytest.mark.usefixtures("meta_app")
def test_a_spent_code_asks_for_embedded_signup_again_without_the_secret(client, clean, fakes):
    fakes["graph"].onboarding.add_number(NEW_NUMBER)
    body = {**signup_body(fakes), "code": "AQB-already-used"}
    answer = client.post(URL, headers=ADMIN, json=body)
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail.startswith("exchange_code failed") and "run Embedded Signup again" in detail
    assert "This authorization code has been used" in detail
    assert META_APP_SECRET not in answer.text and "AQB-already-used" not in answer.text


def test_without_the_meta_app_settings_the_exchange_says_what_is_missing(client, clean, fakes):
    fakes["graph"].onboarding.add_number(NEW_NUMBER)
    answer = client.post(URL, headers=ADMIN, json=signup_body(fakes))
    assert answer.status_code == 422
    assert "META_APP_ID and META_APP_SECRET" in answer.json()["detail"]
    assert fakes["graph"].onboarding.calls == []


@pytest.mark.usefixtures("meta_app")
def test_a_number_can_join_an_existing_merchant(client, merchant, fakes):
    fakes["graph"].onboarding.add_number(NEW_NUMBER)
    body = signup_body(fakes, merchant_id=merchant["id"])
    answer = client.post(URL, headers=ADMIN, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["merchant_id"] == merchant["id"]
    with session_scope() as session:
        numbers = session.scalars(select(PhoneNumber).order_by(PhoneNumber.id)).all()
        assert [(n.merchant_id, n.phone_number_id) for n in numbers] == [
            (merchant["id"], merchant["phone_number_id"]), (merchant["id"], NEW_NUMBER),
        ]  # fmt: skip
        assert numbers[1].access_token == NEW_TOKEN


@pytest.mark.usefixtures("meta_app")
@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"code": ""}, 422, "code"),
        ({"waba_id": "../me"}, 422, "waba_id"),
        ({"phone_number_id": None}, 422, "phone_number_id"),
        ({"pin": "12ab56"}, 422, "pin"),
        ({"merchant_id": 999}, 404, "merchant 999 does not exist"),
        ({"token": "x"}, 422, "token"),
    ],
)
def test_bad_input_is_refused_with_its_reason(client, clean, fakes, change, status, reason):
    answer = client.post(URL, headers=ADMIN, json={**signup_body(fakes), **change})
    assert answer.status_code == status and reason in answer.text
    assert fakes["graph"].onboarding.calls == []


@pytest.mark.usefixtures("meta_app")
def test_only_admins_onboard_numbers(client, merchant, fakes):
    assert client.post(URL, json=signup_body(fakes)).status_code == 401
    operator = operator_headers(client, ADMIN_TOKEN)
    assert client.post(URL, headers=operator, json=signup_body(fakes)).status_code == 403
    assert fakes["graph"].onboarding.calls == []


@pytest.mark.usefixtures("meta_app")
def test_a_merchant_admin_onboards_onto_their_own_merchant(client, merchant, fakes):
    """Only platform admins create merchants: a merchant's admin who names none extends
    their own."""
    made = client.post(
        "/api/v1/operators", headers=ADMIN,
        json={"name": "Mia", "is_admin": True, "merchant_id": merchant["id"]},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    own_admin = {"Authorization": f"Bearer {made.json()['token']}"}
    fakes["graph"].onboarding.add_number(NEW_NUMBER)

    answer = client.post(URL, headers=own_admin, json=signup_body(fakes))

    assert answer.status_code == 200, answer.text
    assert answer.json()["merchant_id"] == merchant["id"]
    assert len(client.get("/api/v1/merchants", headers=ADMIN).json()) == 1
