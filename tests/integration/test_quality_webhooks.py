"""Meta's account and quality webhooks are recorded, and a flagged number is a console banner."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.helpers import load_payload, post_webhook
from tests.integration.console_helpers import login

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WABA = "102290129340398"
BANNER = 'class="flash flash-error quality-warning"'


def _owns_waba(merchant: dict) -> None:
    from persistence.db import session_scope
    from services.merchants.merchant import set_business_account

    with session_scope() as session:
        set_business_account(session, merchant["id"], WABA)


def _operator_token(client, merchant_id: int) -> str:
    body = {"name": "Olga", "is_admin": False, "merchant_id": merchant_id}
    made = client.post("/api/v1/operators", headers=ADMIN, json=body)
    assert made.status_code == 201, made.text
    return made.json()["token"]


def _events() -> list[tuple[str, str | None, int | None]]:
    from sqlalchemy import select

    from persistence.db import session_scope
    from persistence.models import AccountEvent, RejectedWebhook

    with session_scope() as session:
        assert session.scalars(select(RejectedWebhook)).all() == []
        rows = session.scalars(select(AccountEvent).order_by(AccountEvent.id))
        return [(e.field, e.event, e.merchant_id) for e in rows]


def test_a_flagged_number_shows_a_banner_to_its_merchants_operators(client, merchant):
    _owns_waba(merchant)
    other = client.post("/api/v1/merchants", headers=ADMIN, json={"name": "Other"}).json()
    other_token = _operator_token(client, other["id"])
    token = _operator_token(client, merchant["id"])
    login(client, token)
    assert BANNER not in client.get("/console/inbox").text

    assert post_webhook(client, load_payload("phone_number_quality_update")).status_code == 200

    page = client.get("/console/inbox").text
    assert BANNER in page and "15550001111" in page and "FLAGGED" in page
    assert BANNER in client.get("/console/notifications").text  # every page
    client.cookies.clear()
    login(client, other_token)
    assert BANNER not in client.get("/console/inbox").text
    assert _events() == [("phone_number_quality_update", "FLAGGED", merchant["id"])]


def test_an_unflagged_number_loses_its_banner(client, merchant):
    _owns_waba(merchant)
    flagged = load_payload("phone_number_quality_update")
    post_webhook(client, flagged)
    flagged["entry"][0]["changes"][0]["value"]["event"] = "UNFLAGGED"
    post_webhook(client, flagged)
    login(client, _operator_token(client, merchant["id"]))
    assert BANNER not in client.get("/console/inbox").text


def test_account_and_template_quality_updates_are_recorded_not_rejected(client, merchant):
    _owns_waba(merchant)
    assert post_webhook(client, load_payload("account_update")).status_code == 200
    assert post_webhook(client, load_payload("message_template_quality_update")).status_code == 200
    assert _events() == [
        ("account_update", "VERIFIED_ACCOUNT", merchant["id"]),
        ("message_template_quality_update", "YELLOW", merchant["id"]),
    ]
