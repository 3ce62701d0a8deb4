"""The console's Store page: an admin connects the Shopify store (the token checked by
Shopify, never shown), sees the sync, syncs again and disconnects; an operator who is not an
admin may look but not change it."""

from __future__ import annotations

import re

import pytest

from channels.simulators.shopify_catalog import sample_catalog
from persistence.db import session_scope
from services.merchants.operator import create_operator
from tests.helpers import eventually
from tests.integration.console_helpers import login, submit

pytestmark = pytest.mark.integration


def _sign_in(client, *, admin: bool) -> None:
    with session_scope() as session:
        _, token = create_operator(session, name="Olga", is_admin=admin)
    assert login(client, token).status_code == 303


def _connect(client, merchant, fakes, token: str) -> object:
    form = {"merchant_id": str(merchant["id"]), "shop_domain": fakes["shopify"].shop_domain,
            "access_token": token}  # fmt: skip
    return submit(client, "/console/store/connect", form)


def test_an_admin_connects_watches_the_sync_and_disconnects(stack, client, merchant, fakes):
    _sign_in(client, admin=True)
    fakes["shopify"].add(*sample_catalog(7))
    page = client.get("/console/store").text
    assert 'href="/console/store"' in page and "data-store-connect" in page

    refused = _connect(client, merchant, fakes, "shpat_wrong")
    assert refused.status_code == 303
    assert "Invalid API key or access token" in client.get("/console/store").text

    assert _connect(client, merchant, fakes, fakes["shopify"].access_token).status_code == 303

    def synced() -> str:
        html = client.get("/console/store").text
        assert "<dd data-sync-status>done" in html, html
        return html

    html = eventually(synced, timeout=60)
    assert "Acme Shoes" in html and "<dd data-products>7</dd>" in html
    assert fakes["shopify"].access_token not in html  # never shown again
    form = {"merchant_id": str(merchant["id"])}
    assert submit(client, "/console/store/sync", form).status_code == 303
    assert "A full sync has started." in client.get("/console/store").text
    eventually(synced, timeout=60)
    assert submit(client, "/console/store/disconnect", form).status_code == 303
    assert "data-store-connect" in client.get("/console/store").text


def test_an_operator_who_is_not_an_admin_cannot_connect_a_store(client, merchant, fakes):
    _sign_in(client, admin=False)
    assert _connect(client, merchant, fakes, fakes["shopify"].access_token).status_code == 303
    html = client.get("/console/store").text
    assert re.search(r"needs an admin", html) and "data-store-connect" in html
    assert fakes["shopify"].requests == []
