"""Credentials at rest: ciphertext in the database, plaintext on the wire to WhatsApp, key
rotation, and never a token in an API answer, a console page or a log line."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from channels.simulators.graph_wire import bearer_token
from channels.simulators.webhooks import text_message_payload
from tests.conftest import ADMIN_TOKEN, SECRETS_KEY
from tests.helpers import eventually, post_webhook
from tests.integration.console_helpers import login

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TOKEN = "EAAG-distinctive-c0ffee-7f3a9c-token"
NEW_KEY = Fernet.generate_key().decode()


def _stored_tokens() -> dict[str, str]:
    """phone_number_id -> the access_token column as the database holds it."""
    from persistence.db import session_scope

    with session_scope() as session:
        rows = session.execute(text("SELECT phone_number_id, access_token FROM phone_numbers"))
        return {number: stored for number, stored in rows}


def _tokens_read() -> dict[str, str]:
    """phone_number_id -> the access token as services read it."""
    from sqlalchemy import select

    from persistence.db import session_scope
    from persistence.models import PhoneNumber

    with session_scope() as session:
        return {p.phone_number_id: p.access_token for p in session.scalars(select(PhoneNumber))}


def _create_merchant(client, *numbers: tuple[str, str]) -> dict:
    body = {
        "name": "Acme Shoes",
        "description": "We sell running shoes.",
        "phone_numbers": [{"phone_number_id": n, "access_token": t} for n, t in numbers],
    }
    response = client.post("/api/v1/merchants", headers=ADMIN, json=body)
    assert response.status_code == 201, response.text
    assert TOKEN not in response.text
    return response.json()


def test_a_number_added_through_the_api_is_stored_as_ciphertext(client, clean):
    merchant = _create_merchant(client, ("1065", TOKEN))
    added = client.post(
        f"/api/v1/merchants/{merchant['id']}/phone-numbers",
        headers=ADMIN,
        json={"phone_number_id": "2077", "access_token": TOKEN + "-second"},
    )
    assert added.status_code == 201 and TOKEN not in added.text
    stored = _stored_tokens()
    for number, plaintext in (("1065", TOKEN), ("2077", TOKEN + "-second")):
        assert stored[number].startswith("gAAAA") and TOKEN not in stored[number]
        assert Fernet(SECRETS_KEY).decrypt(stored[number].encode()).decode() == plaintext
    assert _tokens_read() == {"1065": TOKEN, "2077": TOKEN + "-second"}


def test_a_refused_body_does_not_echo_the_token(client, clean):
    merchant = _create_merchant(client)
    for body in ({"access_token": TOKEN}, {"phone_number_id": "x" * 65, "access_token": TOKEN}):
        refused = client.post(
            f"/api/v1/merchants/{merchant['id']}/phone-numbers", headers=ADMIN, json=body
        )
        assert refused.status_code == 422 and "phone_number_id" in refused.text
        assert TOKEN not in refused.text


@pytest.fixture
def secrets_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """`secrets_key("new,old")`: SECRETS_KEY for this process (the manage.py commands)."""
    from settings import get_settings

    def use(value: str) -> None:
        monkeypatch.setenv("SECRETS_KEY", value)
        get_settings.cache_clear()

    yield use
    monkeypatch.undo()
    get_settings.cache_clear()


def _manage(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from scripts.manage import main

    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _send_with_stored_token(phone_number_id: str, fakes: dict) -> str:
    """A send through the number's client, as delivery does: the bearer the Graph API got."""
    from channels.base import Recipient
    from persistence.db import session_scope
    from services.merchants.clients import client_for
    from services.merchants.merchant import find_phone_number

    with session_scope() as session:
        phone = find_phone_number(session, phone_number_id)
        assert phone is not None
        client_for(phone).send_text(Recipient(wa_id="15551234567"), "hello")
    return str(bearer_token(fakes["graph"].requests[-1]))


def test_rotation_re_encrypts_every_credential_then_the_old_key_can_go(
    client, clean, fakes, secrets_key, capsys
):
    _create_merchant(client, ("1065", TOKEN), ("2077", TOKEN + "-second"))
    before = _stored_tokens()

    secrets_key(NEW_KEY)  # the old key dropped too early: refused, nothing changed
    code, output = _manage(capsys, "rotate-secrets")
    assert code == 1 and "cannot be decrypted with any key in SECRETS_KEY" in output
    assert _stored_tokens() == before and SECRETS_KEY not in output

    secrets_key(f"{NEW_KEY},{SECRETS_KEY}")
    code, output = _manage(capsys, "rotate-secrets")
    assert code == 0 and "re-encrypted 2 credential(s)" in output, output
    after = _stored_tokens()
    for number in before:
        assert after[number] != before[number]
        Fernet(NEW_KEY).decrypt(after[number].encode())  # under the new key alone

    secrets_key(NEW_KEY)
    assert _tokens_read() == {"1065": TOKEN, "2077": TOKEN + "-second"}
    assert _send_with_stored_token("1065", fakes) == TOKEN
    code, output = _manage(capsys, "rotate-secrets")  # again: harmless
    assert code == 0 and "re-encrypted 2 credential(s)" in output


def test_with_the_key_lost_messages_are_still_received_and_the_loss_is_said(
    client, clean, secrets_key
):
    from persistence.crypto import undecryptable_credentials
    from persistence.db import session_scope
    from persistence.models import Base
    from tests.helpers import messages_in_db

    _create_merchant(client, ("1065", TOKEN))
    secrets_key(NEW_KEY)
    answer = post_webhook(client, text_message_payload(phone_number_id="1065", text="hello?"))
    assert answer.status_code == 200
    assert [m.text for m in messages_in_db(direction="in")] == ["hello?"]
    assert _tokens_read() == {"1065": ""}  # unusable, never a crash
    with session_scope() as session:
        tables = list(Base.metadata.tables.values())
        assert undecryptable_credentials(session.connection(), tables) == [
            "phone_numbers.access_token #1"
        ]


def _every_page(client, conversation_id: int) -> list[str]:
    """What the API and the console show about this merchant and its conversation."""
    bodies = [
        client.get(path, headers=ADMIN).text
        for path in (
            "/api/v1/merchants",
            "/api/v1/conversations",
            f"/api/v1/conversations/{conversation_id}",
            "/api/v1/notifications",
            "/health",
            "/stats",
        )
    ]
    assert login(client, ADMIN_TOKEN).status_code == 303
    for path in ("/console/inbox", f"/console/conversations/{conversation_id}"):
        page = client.get(path)
        assert page.status_code == 200, path
        bodies.append(page.text)
    return bodies


def test_a_webhook_to_reply_run_never_shows_the_token(stack, client, clean, fakes, caplog):
    caplog.set_level(logging.DEBUG)
    merchant = _create_merchant(client, ("1065", TOKEN))
    fakes["gemini"].reply("Hello! Our shoes ship in 2 days.")
    # Graph's first answer quotes the token: the retry is logged, without it
    fakes["graph"].fail_next(1, code=131000, message=f"Something went wrong for {TOKEN}")
    answer = post_webhook(client, text_message_payload(phone_number_id="1065", text="hi"))
    assert answer.status_code == 200 and TOKEN not in answer.text

    sent = fakes["graph"].wait_for_sent(1, timeout=30)
    assert sent[0]["text"]["body"] == "Hello! Our shoes ship in 2 days."
    sends = [r for r in fakes["graph"].requests if r.path.endswith("/1065/messages")]
    assert len(sends) >= 2 and {bearer_token(r) for r in sends} == {TOKEN}  # the plaintext
    conversations = client.get("/api/v1/conversations", headers=ADMIN).json()
    assert len(conversations) == 1 and merchant["id"]
    assert TOKEN not in "".join(_every_page(client, conversations[0]["id"]))

    eventually(lambda: "whatsapp.send.retry" in stack.worker_log())
    worker_log = stack.worker_log()
    assert "Something went wrong for [redacted]" in worker_log
    assert TOKEN not in worker_log
    assert TOKEN not in caplog.text
    assert all(TOKEN not in str(record.__dict__) for record in caplog.records)


def _every_credential(*, create: bool = False) -> dict[str, str | None]:
    """Every kind of stored credential, as the services read it: a WhatsApp token, a
    Twilio auth token, an Instagram token, a Shopify store's two tokens, an onboarding's
    business token and PIN (made first when `create`)."""
    from sqlalchemy import select

    from persistence.db import session_scope
    from persistence.models import PhoneNumber, ShopifyStore, WhatsAppOnboarding
    from services.merchants.merchant import add_phone_number, create_merchant

    with session_scope() as session:
        if create:
            merchant = create_merchant(session, name="Every Kind")
            for kind, provider_id, secret in (
                ("whatsapp_cloud", "1065", TOKEN), ("twilio_whatsapp", "+14155238886", "tw-auth-1"),
                ("instagram", "17841400000001", "IGQ-token-1"),
            ):  # fmt: skip
                add_phone_number(
                    session, merchant_id=merchant.id, phone_number_id=provider_id,
                    access_token=secret, type=kind, account_sid="AC1" if kind[0] == "t" else None,
                )  # fmt: skip
            session.add(ShopifyStore(
                merchant_id=merchant.id, shop_domain="every.myshopify.com",
                access_token="shpat-admin-1", storefront_access_token="sf-token-1",
            ))  # fmt: skip
            session.add(WhatsAppOnboarding(
                phone_number_id="2077", waba_id="3088", merchant_id=merchant.id, step="done",
                access_token="EAAB-onboarded-1", pin="482913",
            ))  # fmt: skip
        read: dict[str, str | None] = {
            f"{p.type}:{p.phone_number_id}": p.access_token
            for p in session.scalars(select(PhoneNumber))
        }
        for store in session.scalars(select(ShopifyStore)):
            read["shopify"], read["storefront"] = store.access_token, store.storefront_access_token
        for record in session.scalars(select(WhatsAppOnboarding)):
            read["onboarding"], read["pin"] = record.access_token, record.pin
        return read


def test_rotation_keeps_every_kind_of_credential_readable(clean, secrets_key, capsys):
    before = _every_credential(create=True)
    assert len(before) == 7 and all(before.values())
    secrets_key(f"{NEW_KEY},{SECRETS_KEY}")
    code, output = _manage(capsys, "rotate-secrets")
    assert code == 0 and "re-encrypted 7 credential(s)" in output, output
    secrets_key(NEW_KEY)  # the old key gone: everything still reads the same
    assert _every_credential() == before
    assert not any(secret in output for secret in before.values() if secret)
