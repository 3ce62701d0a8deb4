"""The console's Connect WhatsApp page: Meta's SDK and Embedded Signup only when configured,
the manual way otherwise, admins only; its form runs the same onboarding as the API."""

from __future__ import annotations

import pytest

from persistence.db import session_scope
from services.merchants.operator import create_operator
from tests.conftest import ADMIN_TOKEN
from tests.integration import onboarding_helpers
from tests.integration.console_helpers import csrf_token, login
from tests.integration.onboarding_helpers import (
    CONFIG_ID,
    META_APP_ID,
    META_APP_SECRET,
    NEW_NUMBER,
    NEW_TOKEN,
    signup_body,
)

pytestmark = pytest.mark.integration
PAGE = "/console/settings/whatsapp"
SDK = '<script async defer crossorigin="anonymous" src="https://connect.facebook.net/en_US/sdk.js">'
meta_app = onboarding_helpers.meta_app  # the fixture, for usefixtures below


def test_without_embedded_signup_the_page_explains_the_manual_way(client, clean):
    assert login(client, ADMIN_TOKEN).status_code == 303
    assert f'href="{PAGE}"' in client.get("/console/inbox").text  # in the admin's nav
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Connect a number by hand" in page.text and "scripts/manage.py add-number" in page.text
    assert "/api/v1/merchants/{id}/phone-numbers" in page.text
    assert "connect.facebook.net" not in page.text + page.headers["content-security-policy"]
    assert "whatsapp_signup.js" not in page.text


@pytest.mark.usefixtures("meta_app")
def test_with_embedded_signup_the_page_loads_metas_sdk_with_our_configuration(client, clean):
    assert login(client, ADMIN_TOKEN).status_code == 303
    page = client.get(PAGE)
    assert page.status_code == 200
    assert SDK in page.text and "/console/static/whatsapp_signup.js" in page.text
    assert f'data-config-id="{CONFIG_ID}"' in page.text
    assert f'data-app-id="{META_APP_ID}"' in page.text
    assert "Connect a number by hand" not in page.text and META_APP_SECRET not in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self' https://connect.facebook.net" in policy
    assert "frame-src https://www.facebook.com" in policy
    script = client.get("/console/static/whatsapp_signup.js").text
    for piece in (
        "WA_EMBEDDED_SIGNUP",
        "override_default_response_type: true",
        'sessionInfoVersion: "3"',
    ):
        assert piece in script


@pytest.mark.usefixtures("meta_app")
def test_operators_who_are_not_admins_neither_see_nor_use_it(client, clean, fakes):
    with session_scope() as session:
        _, token = create_operator(session, name="Olga")
    assert login(client, token).status_code == 303
    assert f'href="{PAGE}"' not in client.get("/console/inbox").text
    page = client.get(PAGE)
    assert page.status_code == 403 and "Only admins" in page.text
    assert "connect.facebook.net" not in page.text
    fakes["graph"].onboarding.add_number(NEW_NUMBER)
    form = {"csrf_token": csrf_token(client), **signup_body(fakes)}
    refused = client.post(PAGE, data=form, headers={"Origin": "http://testserver"})
    assert refused.status_code == 403 and fakes["graph"].onboarding.calls == []


@pytest.mark.usefixtures("meta_app")
def test_the_signup_result_posted_by_the_page_onboards_the_number(client, clean, fakes):
    fakes["graph"].onboarding.add_number(NEW_NUMBER, verified_name="Sunrise Bakery")
    assert login(client, ADMIN_TOKEN).status_code == 303
    without_csrf = client.post(
        PAGE, data=signup_body(fakes), headers={"Origin": "http://testserver"}
    )
    assert without_csrf.status_code == 403 and fakes["graph"].onboarding.calls == []

    token = csrf_token(client, PAGE)
    bad = client.post(
        PAGE, data={**signup_body(fakes), "waba_id": "x"}, headers={"X-CSRF-Token": token}
    )
    assert bad.status_code == 422 and "waba_id" in bad.json()["detail"]

    done = client.post(PAGE, data=signup_body(fakes), headers={"X-CSRF-Token": token})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done" and done.json()["verified_name"] == "Sunrise Bakery"
    assert NEW_TOKEN not in done.text
    listed = client.get(PAGE).text
    assert f'data-onboarding="{NEW_NUMBER}"' in listed and "Sunrise Bakery" in listed
