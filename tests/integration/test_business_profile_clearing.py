"""Clearing WhatsApp business-profile fields (#16 point 4): the API tells "leave unchanged"
(field absent) from "clear" (null or ""), the console form tells an emptied field from one
left alone, and the fake Graph API clears and refuses the way Meta does."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ACCESS_TOKEN, ADMIN_TOKEN
from tests.integration.console_helpers import login, submit

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FULL = {
    "about": "Running shoes", "address": "1 Main St", "description": "Since 1990.",
    "email": "hi@acme.example", "websites": ["https://acme.example", "https://b.example"],
    "vertical": "RETAIL",
}  # fmt: skip


@pytest.fixture
def profile(merchant, fakes) -> dict:
    """Meta holds a full profile for the merchant's number."""
    fakes["graph"].business_profiles.profiles[merchant["phone_number_id"]] = dict(FULL)
    return fakes["graph"].business_profiles.profiles[merchant["phone_number_id"]]


def _url(merchant: dict) -> str:
    return (
        f"/api/v1/merchants/{merchant['id']}/phone-numbers/"
        f"{merchant['phone_number_id']}/business-profile"
    )


def test_null_or_empty_clears_a_field_and_an_absent_one_stays(client, merchant, profile, fakes):
    body = {"address": None, "email": "", "websites": []}
    answer = client.patch(_url(merchant), headers=ADMIN, json=body)
    assert answer.status_code == 200, answer.text
    # sent the way Meta clears: "" for a text, [] for websites; nothing else sent
    posted = fakes["graph"].business_profiles.posted[-1]
    assert posted == {"messaging_product": "whatsapp", "address": "", "email": "", "websites": []}
    shown = answer.json()
    assert (shown["address"], shown["email"], shown["websites"]) == (None, None, None)
    assert shown["about"] == "Running shoes" and shown["description"] == "Since 1990."
    assert client.get(_url(merchant), headers=ADMIN).json() == shown  # as Meta now has it
    assert set(profile) == {"about", "description", "vertical"}


def test_an_empty_change_sends_nothing_to_meta(client, merchant, profile, fakes):
    answer = client.patch(_url(merchant), headers=ADMIN, json={})
    assert answer.status_code == 200 and answer.json()["email"] == "hi@acme.example"
    assert fakes["graph"].business_profiles.posted == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"about": None}, "about cannot be cleared"),
        ({"about": ""}, "about cannot be cleared"),
        ({"vertical": None}, "vertical cannot be cleared"),
        ({"email": "not-an-email"}, "email"),
        ({"websites": ["acme.example"]}, "websites"),
        ({"websites": ["https://a.example", "https://b.example", "https://c.example"]}, "websites"),
        ({"about": "x" * 140}, "about"),
    ],
)
def test_a_clear_or_value_whatsapp_refuses_is_a_422(client, merchant, profile, fakes, body, reason):
    answer = client.patch(_url(merchant), headers=ADMIN, json=body)
    assert answer.status_code == 422 and reason in answer.text
    assert fakes["graph"].business_profiles.posted == []
    assert profile == FULL


def _meta(fakes: dict, merchant: dict, body: dict) -> httpx.Response:
    return httpx.post(
        f"{fakes['graph'].api_root}/{merchant['phone_number_id']}/whatsapp_business_profile",
        headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
        json={"messaging_product": "whatsapp", **body},
    )


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"email": "hi@acme"}, "Param email must be a valid email address."),
        ({"websites": ["https://a.example", "https://b.example", "https://c.example"]},
         "Param websites must be an array with at most 2 elements."),
        ({"websites": ["acme.example"]}, "Param websites[] must be a URL"),
        ({"about": "x" * 140}, "Param about must be between 1 and 139 characters long."),
        ({"about": ""}, "Param about must be between 1 and 139 characters long."),
        ({"address": None}, "Param address must be a string."),
        ({"description": "x" * 513}, "Param description must be at most 512 characters long."),
    ],
)  # fmt: skip
def test_the_fake_graph_api_refuses_what_meta_refuses(fakes, merchant, profile, body, details):
    answer = _meta(fakes, merchant, body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["type"], error["message"]) == (
        100, "OAuthException", "(#100) Invalid parameter",
    )  # fmt: skip
    assert error["error_data"]["details"].startswith(details) and error["fbtrace_id"]
    assert profile == FULL


def test_the_fake_graph_api_clears_as_meta_does(fakes, merchant, profile):
    cleared = _meta(fakes, merchant, {"description": "", "websites": []})
    assert cleared.status_code == 200 and cleared.json() == {"success": True}
    read = httpx.get(
        f"{fakes['graph'].api_root}/{merchant['phone_number_id']}/whatsapp_business_profile",
        params={"fields": "about,description,websites,email"},
        headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
    )
    assert read.json() == {"data": [{
        "messaging_product": "whatsapp", "about": "Running shoes", "email": "hi@acme.example",
    }]}  # fmt: skip


def _console_admin(client, merchant: dict) -> None:
    body = {"name": "Ada", "is_admin": True, "merchant_id": merchant["id"]}
    made = client.post("/api/v1/operators", headers=ADMIN, json=body)
    assert made.status_code == 201, made.text
    login(client, made.json()["token"])


def _form(client, number: str) -> dict[str, str]:
    """The profile form as the page renders it: every named field with its value."""
    import re

    page = client.get("/console/settings").text
    form = page[page.index(f'action="/console/settings/numbers/{number}/profile"') :]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    fields["description"] = re.search(r"<textarea[^>]*>([^<]*)</textarea>", form).group(1)
    fields.pop("csrf_token")
    return fields


def test_the_console_form_clears_an_emptied_field_and_leaves_the_rest(
    client, merchant, profile, fakes
):
    _console_admin(client, merchant)
    number = merchant["phone_number_id"]
    form = _form(client, number)
    assert form["email"] == "hi@acme.example" and form["shown_email"] == "hi@acme.example"
    form.update(email="", website_2="", address="2 High St")
    assert submit(client, f"/console/settings/numbers/{number}/profile", form).status_code == 303
    assert fakes["graph"].business_profiles.posted[-1] == {
        "messaging_product": "whatsapp", "address": "2 High St", "email": "",
        "websites": ["https://acme.example"],
    }  # fmt: skip
    assert "email" not in profile and profile["about"] == "Running shoes"
    page = client.get("/console/settings").text
    assert "WhatsApp business profile updated." in page
    assert _form(client, number)["email"] == "" and _form(client, number)["shown_email"] == ""


def test_the_console_form_refuses_to_clear_about_with_the_reason(client, merchant, profile, fakes):
    _console_admin(client, merchant)
    number = merchant["phone_number_id"]
    form = {**_form(client, number), "about": ""}
    submit(client, f"/console/settings/numbers/{number}/profile", form)
    page = client.get("/console/settings").text
    assert "flash-error" in page and "about cannot be cleared" in page
    assert fakes["graph"].business_profiles.posted == [] and profile == FULL
