"""A number's quality rating and a template's quality score, from Meta's webhooks to the
console: a YELLOW or RED number is a banner for its merchant's operators until it recovers;
a template's score is stored and shown on the Templates page and in the API."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from persistence.db import session_scope
from persistence.models import MessageTemplate, PhoneNumber
from services.merchants.merchant import set_business_account
from tests.conftest import ADMIN_TOKEN
from tests.helpers import load_payload, post_webhook
from tests.integration.console_helpers import login

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WABA = "102290129340398"
BANNER = 'class="flash flash-error quality-warning"'


@pytest.fixture
def shop(merchant: dict) -> dict:
    with session_scope() as session:
        set_business_account(session, merchant["id"], WABA)
    return merchant


def _operator_token(client, merchant_id: int) -> str:
    body = {"name": "Olga", "is_admin": False, "merchant_id": merchant_id}
    made = client.post("/api/v1/operators", headers=ADMIN, json=body)
    assert made.status_code == 201, made.text
    return made.json()["token"]


def _quality_update(field: str, **value: str) -> dict:
    payload = copy.deepcopy(load_payload("phone_number_quality_update"))
    change = payload["entry"][0]["changes"][0]
    change["field"], change["value"] = field, {"display_phone_number": "15550001111", **value}
    return payload


def _template_quality(new: str, previous: str = "GREEN", **value: object) -> dict:
    payload = copy.deepcopy(load_payload("message_template_quality_update"))
    payload["entry"][0]["changes"][0]["value"].update(
        new_quality_score=new, previous_quality_score=previous, **value
    )
    return payload


def _rating() -> tuple[str | None, str | None]:
    with session_scope() as session:
        phone = session.scalars(select(PhoneNumber)).one()
        return phone.quality_event, phone.quality_rating


@pytest.mark.parametrize("rating", ["YELLOW", "RED"])
def test_a_yellow_or_red_number_is_a_banner_until_it_is_green_again(client, shop, rating):
    login(client, _operator_token(client, shop["id"]))
    update = _quality_update("phone_number_quality_update", event="DOWNGRADE",
                             quality_rating=rating, current_limit="TIER_250")  # fmt: skip
    assert post_webhook(client, update).status_code == 200

    page = client.get("/console/inbox").text
    assert BANNER in page and f"quality {rating}" in page and "15550001111" in page
    assert _rating() == ("DOWNGRADE", rating)

    green = _quality_update("phone_number_quality_update", event="UPGRADE", quality_rating="GREEN")
    assert post_webhook(client, green).status_code == 200
    assert BANNER not in client.get("/console/inbox").text
    assert _rating() == ("UPGRADE", "GREEN")


def test_an_account_update_flags_and_unflags_a_number(client, shop):
    login(client, _operator_token(client, shop["id"]))
    post_webhook(client, _quality_update("account_update", event="FLAGGED"))
    assert "FLAGGED" in client.get("/console/inbox").text
    post_webhook(client, _quality_update("account_update", event="UNFLAGGED"))
    assert BANNER not in client.get("/console/inbox").text


def test_an_account_update_about_something_else_leaves_the_rating_alone(client, shop):
    post_webhook(client, _quality_update("phone_number_quality_update", event="FLAGGED"))
    post_webhook(client, _quality_update("account_update", event="VERIFIED_ACCOUNT"))
    assert _rating() == ("FLAGGED", None)


def test_a_template_quality_update_is_stored_and_shown(client, shop):
    with session_scope() as session:
        session.add(MessageTemplate(
            merchant_id=shop["id"], name="order_shipped", language="en_US", body="Shipped {{1}}",
            parameters=["order"], status="APPROVED", meta_template_id="1689556908129832",
        ))  # fmt: skip
    token = _operator_token(client, shop["id"])
    login(client, token)
    assert "UNKNOWN" in client.get("/console/templates").text

    assert post_webhook(client, _template_quality("RED", previous="YELLOW")).status_code == 200

    with session_scope() as session:
        assert session.scalars(select(MessageTemplate.quality)).one() == "RED"
    page = client.get("/console/templates").text
    assert 'class="quality quality-red">RED<' in page and "order_shipped" in page
    listed = client.get(
        f"/api/v1/templates?merchant_id={shop['id']}",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert [(t["name"], t["quality"]) for t in listed] == [("order_shipped", "RED")]


def test_a_template_quality_update_matches_by_name_and_language_without_metas_id(client, shop):
    with session_scope() as session:
        session.add(MessageTemplate(
            merchant_id=shop["id"], name="order_shipped", language="en_US", body="Shipped",
            status="APPROVED",
        ))  # fmt: skip
    post_webhook(client, _template_quality("YELLOW", message_template_id=999))
    with session_scope() as session:
        assert session.scalars(select(MessageTemplate.quality)).one() == "YELLOW"


def test_the_templates_page_shows_only_the_callers_merchants_templates(client, shop):
    other = client.post("/api/v1/merchants", headers=ADMIN, json={"name": "Other"}).json()
    with session_scope() as session:
        session.add(MessageTemplate(
            merchant_id=other["id"], name="secret_promo", language="en", body="Hi",
            status="APPROVED",
        ))  # fmt: skip
    login(client, _operator_token(client, shop["id"]))
    page = client.get("/console/templates")
    assert page.status_code == 200 and "secret_promo" not in page.text
