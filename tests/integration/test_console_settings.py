"""The console's Settings page: a merchant's admin edits the profile, staff and numbers."""

from __future__ import annotations

import pytest

from tests.conftest import ACCESS_TOKEN, ADMIN_TOKEN
from tests.integration.console_helpers import login, submit

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _admin_of(client, merchant_id: int, *, is_admin: bool = True) -> None:
    body = {"name": "Ada", "is_admin": is_admin, "merchant_id": merchant_id}
    made = client.post("/api/v1/operators", headers=ADMIN, json=body)
    assert made.status_code == 201, made.text
    login(client, made.json()["token"])


def test_a_merchant_admin_edits_the_ai_profile_and_staff(client, merchant):
    _admin_of(client, merchant["id"])
    page = client.get("/console/settings")
    assert page.status_code == 200 and 'href="/console/settings"' in page.text
    saved = submit(
        client, "/console/settings/profile",
        {"name": "Acme", "greeting": "Hola!", "ai_rules": "promise discounts"},
    )  # fmt: skip
    assert saved.status_code == 303
    merchant_read = client.get("/api/v1/merchants", headers=ADMIN).json()[0]
    assert (merchant_read["greeting"], merchant_read["ai_rules"]) == ("Hola!", "promise discounts")
    submit(client, "/console/settings/users", {"name": "Maria", "wa_id": "15550001"})
    page = client.get("/console/settings").text
    assert "Maria" in page
    [staff] = client.get(f"/api/v1/merchants/{merchant['id']}/users", headers=ADMIN).json()
    edit = {"name": "Maria R", "wa_id": "15550001", "type": "Returns"}
    assert submit(client, f"/console/settings/users/{staff['id']}", edit).status_code == 303
    [edited] = client.get(f"/api/v1/merchants/{merchant['id']}/users", headers=ADMIN).json()
    assert (edited["name"], edited["type"]) == ("Maria R", "returns")
    submit(client, f"/console/settings/users/{staff['id']}/delete")
    assert client.get(f"/api/v1/merchants/{merchant['id']}/users", headers=ADMIN).json() == []


def test_a_bad_profile_is_refused_with_its_reason(client, merchant):
    _admin_of(client, merchant["id"])
    submit(client, "/console/settings/profile", {"name": "Acme", "greeting": "x" * 600})
    page = client.get("/console/settings").text
    assert "flash-error" in page and "greeting" in page
    assert client.get("/api/v1/merchants", headers=ADMIN).json()[0]["greeting"] == ""


def test_a_token_replaced_in_the_console_is_never_shown(client, merchant):
    _admin_of(client, merchant["id"])
    number = merchant["phone_number_id"]
    submit(client, f"/console/settings/numbers/{number}/token", {"access_token": "EAAG-new-one"})
    page = client.get("/console/settings").text
    assert "Token replaced" in page
    assert "EAAG-new-one" not in page and ACCESS_TOKEN not in page


def test_the_business_profile_form_reaches_meta(client, merchant, fakes):
    _admin_of(client, merchant["id"])
    number = merchant["phone_number_id"]
    form = {"about": "Running shoes", "vertical": "RETAIL"}
    submit(client, f"/console/settings/numbers/{number}/profile", form)
    assert fakes["graph"].business_profiles.posted[-1] == {"messaging_product": "whatsapp", **form}


def test_operators_who_are_not_admins_cannot_change_settings(client, merchant):
    _admin_of(client, merchant["id"], is_admin=False)
    assert client.get("/console/settings").status_code == 403
    refused = submit(client, "/console/settings/profile", {"name": "Hijacked"})
    assert refused.status_code == 403
    assert client.get("/api/v1/merchants", headers=ADMIN).json()[0]["name"] == "Acme Shoes"
