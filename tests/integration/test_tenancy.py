"""Tenant isolation: an operator of merchant A never sees or touches merchant B's data.

The walk test calls every route of the app (the OpenAPI schema's and the console's, from
`app.routes`) as A's admin, with B's ids wherever a route names an object, and expects
404/403. Routes that name nothing are called too, and must show none of B's data (every
row of B carries MARK). A route added later is walked the same way; one whose path names
an object of a kind this test does not know fails until the kind is added to `_b_ids`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args, get_origin

import pytest
from alembic import command
from pydantic import BaseModel

from persistence.db import session_scope
from persistence.migrate import alembic_config
from persistence.models import Direction, MerchantUser
from services.desk import canned
from services.media import library as media_library
from services.merchants.merchant import add_phone_number, create_merchant
from services.merchants.operator import create_operator
from services.notifications import notifications
from tests.conftest import ADMIN_TOKEN
from tests.factories import make_conversation, make_document, make_message
from tests.integration.console_helpers import csrf_token, login
from tests.integration.test_migrations import MERCHANT, _insert, _rows, scratch  # noqa: F401

pytestmark = pytest.mark.integration

MARK = "BETAMARK"  # in every row of merchant B: a response that shows it leaks B's data
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SHARED_WA_ID = "15550009999"  # one person who writes to both merchants
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)

# Routes anyone may call without credentials, by design. They reach no merchant's rows
# by id (the signed media link does, and is walked: without B's signature it is a 404).
PUBLIC = {
    ("GET", "/webhook"),  # WhatsApp's verification handshake
    ("POST", "/webhook"),  # WhatsApp's deliveries, signed with the app secret
    ("POST", "/webhooks/twilio"),  # Twilio's deliveries, signed with the sender's auth token
    ("POST", "/webhooks/twilio/status"),
    ("GET", "/health"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
    ("GET", "/"),
    ("GET", "/favicon.ico"),
    ("GET", "/console"),  # a redirect to the inbox
    ("GET", "/console/login"),
    ("POST", "/console/login"),
    ("POST", "/console/logout"),  # ends the caller's own session (would end the walk)
}


def _routes(app: Any) -> Iterator[Any]:
    """Every endpoint, through routers included in routers."""
    for route in getattr(app, "routes", app):
        if hasattr(route, "effective_route_contexts"):
            yield from _routes(list(route.effective_route_contexts()))
        elif hasattr(route, "dependant") and hasattr(route, "methods"):
            yield route


def operations(app: Any) -> list[tuple[str, str, Any]]:
    found = [(m, r.path, r) for r in _routes(app) for m in sorted(r.methods) if m != "HEAD"]
    schema = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    assert schema <= {(m, p) for m, p, _ in found}, "app.routes misses schema operations"
    return found


@pytest.fixture
def tenants(merchant) -> dict[str, Any]:
    """Merchant A (the conftest merchant) with its admin Alice, and merchant B with one of
    everything, each carrying MARK."""
    with session_scope() as session:
        a_id = merchant["id"]
        _, alice = create_operator(session, name="Alice", is_admin=True, merchant_id=a_id)
        _, amos = create_operator(session, name="Amos", merchant_id=a_id)
        mine = make_conversation(
            session, merchant_id=a_id, phone_id=merchant["phone_id"], wa_id=SHARED_WA_ID,
            profile_name="Ana",
        )  # fmt: skip
        make_message(session, conversation_id=mine.id, direction=Direction.INBOUND, text="hi A")
        b = create_merchant(session, name=f"Beta {MARK}", description=f"{MARK} shop")
        phone = add_phone_number(
            session, merchant_id=b.id, phone_number_id="2220001", access_token="EAAG-b",
        )  # fmt: skip
        theirs = make_conversation(
            session, merchant_id=b.id, phone_id=phone.id, wa_id=SHARED_WA_ID,
            profile_name=f"{MARK} Bea",
        )  # fmt: skip
        theirs.needs_human, theirs.needs_human_reason = True, f"{MARK} waits"
        message = make_message(
            session, conversation_id=theirs.id, direction=Direction.INBOUND, text=f"{MARK} hi",
        )  # fmt: skip
        document = make_document(session, merchant_id=b.id, title=f"{MARK} returns")
        asset = media_library.add_asset(
            session, merchant_id=b.id, key="betamark-logo", kind="image", caption=MARK,
            filename="logo.png", mime_type="image/png", data=PNG,
        )  # fmt: skip
        notification = notifications.open_notification(
            session, conversation_id=theirs.id, notification_type="user_question_request",
            context={"question": f"{MARK} question?"},
        )  # fmt: skip
        staff = MerchantUser(merchant_id=b.id, name=f"{MARK} Staff", wa_id="2225550", type="admin")
        session.add(staff)
        bob, _ = create_operator(session, name=f"{MARK} Bob", is_admin=True, merchant_id=b.id)
        saved = canned.create(session, merchant_id=b.id, shortcut="betamark", text=f"{MARK} hi")
        theirs.labels = [MARK.lower()]
        session.flush()
        b_ids = {
            "merchant_id": b.id, "conversation_id": theirs.id, "message_id": message.id,
            "document_id": document.id, "notification_id": notification.id,
            "asset_id": asset.id, "operator_id": bob.id, "customer_id": theirs.customer_id,
            "merchant_user_id": staff.id, "phone_number_id": "2220001", "canned_id": saved.id,
            "channel_id": phone.id,
        }  # fmt: skip
    return {
        "a": a_id, "b": b_ids, "alice": alice, "amos": amos, "mine": mine.id,
        "a_phone_number_id": merchant["phone_number_id"],
    }  # fmt: skip


def _params(dependant: Any, kind: str) -> list[Any]:
    """The route's `kind` ("query_params", "body_params") with its dependencies' own."""
    found = list(getattr(dependant, kind))
    for sub in dependant.dependencies:
        found += _params(sub, kind)
    return found


def _sample(annotation: Any) -> Any:
    """Any value of the type: routes refuse B's ids before they look at the rest."""
    origin, args = get_origin(annotation), get_args(annotation)
    if args and type(None) in args:
        return _sample(next(a for a in args if a is not type(None)))
    if origin in (list, set, tuple):
        return ["x"]
    if origin is dict or annotation is dict:
        return {}
    for kind, value in ((bool, False), (int, 1), (float, 1.0), (str, "x")):
        if isinstance(annotation, type) and issubclass(annotation, kind):
            return value
    return "x"


def _body_fields(route: Any) -> dict[str, Any]:
    """Field name -> annotation of what the route reads from the body (JSON model or form)."""
    params = _params(route.dependant, "body_params")
    model = params[0].field_info.annotation if len(params) == 1 else None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {n: f.annotation for n, f in model.model_fields.items()}
    return {p.name: p.field_info.annotation for p in params}


def _request(route: Any, method: str, b_ids: dict[str, Any], csrf: str) -> dict[str, Any]:
    """The call naming B's objects: B's ids in the path, the query and the body."""
    url = route.path
    for param in route.dependant.path_params:
        if param.name == "filename":
            url = url.replace("{filename}", "logo.png")
            continue
        assert param.name in b_ids, f"{method} {route.path}: add B's {param.name} to the test"
        url = url.replace("{" + param.name + "}", str(b_ids[param.name]))
    queried = _params(route.dependant, "query_params")
    query = {q.name: b_ids[q.name] for q in queried if q.name in b_ids}
    call: dict[str, Any] = {"params": query}
    fields = _body_fields(route)
    if method in ("POST", "PUT", "PATCH") and fields:
        body = {n: b_ids.get(n, _sample(a)) for n, a in fields.items()}
        if "csrf_token" in fields or "file" in fields:  # a form
            body["csrf_token"] = csrf
            files = {"file": ("logo.png", PNG, "image/png")} if "file" in fields else None
            body = {k: str(v) for k, v in body.items() if k != "file"}
            call.update(data=body, files=files, headers={"Origin": "http://testserver"})
        else:
            call["json"] = body
    return {"url": url, **call}


def _names_b(route: Any, call: dict[str, Any], b_ids: dict[str, Any]) -> bool:
    named = set(call["params"]) | {p.name for p in route.dependant.path_params}
    named |= {k for k in (call.get("json") or call.get("data") or {}) if k in b_ids}
    return bool(named - {"filename"})


def test_walk_every_route_as_merchant_a_against_merchant_b(client, tenants):
    """Every route, as A's admin with B's ids: 404/403; a route that names no object shows
    nothing of B's."""
    login(client, tenants["alice"])
    csrf = csrf_token(client)
    bearer = {"Authorization": f"Bearer {tenants['alice']}"}
    leaks: dict[str, str] = {}
    for method, path, route in operations(client.app):
        if (method, path) in PUBLIC or path.startswith("/sandbox"):  # sandbox: off here
            continue
        call = _request(route, method, tenants["b"], csrf)
        url = call.pop("url")
        headers = {**bearer, **call.pop("headers", {})}
        response = client.request(method, url, headers=headers, follow_redirects=False, **call)
        refused = response.status_code in (403, 404) and MARK not in response.text
        if _names_b(route, call, tenants["b"]) and not refused:
            leaks[f"{method} {url}"] = f"{response.status_code}: {response.text[:200]}"
        if method == "GET":  # and once naming nothing: lists must not show B's rows
            plain = client.get(route.path if "{" not in route.path else url, headers=bearer)
            if MARK.lower() in plain.text.lower():
                leaks[f"{method} {path} (unfiltered)"] = plain.text[:200]
    assert leaks == {}
    # the walk went through: A's own data is there
    assert client.get(f"/api/v1/conversations/{tenants['mine']}", headers=bearer).status_code == 200


def test_handoff_by_customer_finds_only_the_callers_merchant(client, tenants):
    """The same person writes to both merchants: naming them finds A's conversation, and
    naming B's number finds nothing."""
    bearer = {"Authorization": f"Bearer {tenants['amos']}"}
    mine = client.post("/api/v1/takeover", headers=bearer, json={"customer": SHARED_WA_ID})
    assert mine.status_code == 200 and mine.json()["id"] == tenants["mine"]
    theirs = {"customer": SHARED_WA_ID, "phone_number_id": tenants["b"]["phone_number_id"]}
    for path in ("/api/v1/takeover", "/api/v1/handback", "/api/v1/operator-message"):
        body = {**theirs, "text": "hello"} if path.endswith("message") else theirs
        refused = client.post(path, headers=bearer, json=body)
        assert refused.status_code == 404, (path, refused.text)
        assert MARK not in refused.text


def test_a_merchant_admin_creates_operators_of_their_own_merchant_only(client, tenants):
    alice = {"Authorization": f"Bearer {tenants['alice']}"}
    own = client.post("/api/v1/operators", headers=alice, json={"name": "Abe"})
    assert own.status_code == 201 and own.json()["merchant_id"] == tenants["a"]
    named = client.post(
        "/api/v1/operators", headers=alice, json={"name": "Ada", "merchant_id": tenants["a"]}
    )
    assert named.status_code == 201 and named.json()["merchant_id"] == tenants["a"]
    other = {"name": "Eve", "merchant_id": tenants["b"]["merchant_id"]}
    assert client.post("/api/v1/operators", headers=alice, json=other).status_code in (403, 404)
    amos = {"Authorization": f"Bearer {tenants['amos']}"}
    assert client.post("/api/v1/operators", headers=amos, json={"name": "X"}).status_code == 403
    assert client.post("/api/v1/merchants", headers=alice, json={"name": "Mine"}).status_code == 403
    # the new operator of A is scoped like Alice
    abe = {"Authorization": f"Bearer {own.json()['token']}"}
    theirs = tenants["b"]["conversation_id"]
    assert client.get(f"/api/v1/conversations/{theirs}", headers=abe).status_code == 404


def test_platform_admins_see_every_merchant_and_may_filter(client, tenants):
    created = client.post("/api/v1/operators", headers=ADMIN, json={"name": "P", "is_admin": True})
    assert created.status_code == 201 and created.json()["merchant_id"] is None
    platform = {"Authorization": f"Bearer {created.json()['token']}"}
    everyone = client.get("/api/v1/conversations", headers=platform).json()
    assert {c["id"] for c in everyone} == {tenants["mine"], tenants["b"]["conversation_id"]}
    only_b = client.get(
        "/api/v1/conversations",
        headers=platform,
        params={"merchant_id": tenants["b"]["merchant_id"]},
    ).json()
    assert [c["id"] for c in only_b] == [tenants["b"]["conversation_id"]]
    b_operator = {"name": "Bo", "merchant_id": tenants["b"]["merchant_id"]}
    assert client.post("/api/v1/operators", headers=platform, json=b_operator).status_code == 201
    # a non-admin named without a merchant joins the default (lowest id) merchant
    plain = client.post("/api/v1/operators", headers=ADMIN, json={"name": "Olga"}).json()
    assert plain["merchant_id"] == tenants["a"]


def test_lists_show_only_the_callers_merchant(client, tenants):
    amos = {"Authorization": f"Bearer {tenants['amos']}"}
    conversations = client.get("/api/v1/conversations", headers=amos).json()
    assert [c["id"] for c in conversations] == [tenants["mine"]]
    for path in ("/api/v1/documents", "/api/v1/notifications"):
        listed = client.get(path, headers=amos)
        assert listed.status_code == 200 and MARK not in listed.text
    both = [("merchant_id", tenants["b"]["merchant_id"]), ("merchant_id", tenants["a"])]
    assert client.get("/api/v1/conversations", headers=amos, params=both).status_code == 404
    alice = {"Authorization": f"Bearer {tenants['alice']}"}
    merchants = client.get("/api/v1/merchants", headers=alice).json()
    assert [m["id"] for m in merchants] == [tenants["a"]]
    operators = client.get("/api/v1/operators", headers=alice).json()
    assert {o["name"] for o in operators} == {"Alice", "Amos"}


def test_the_console_inbox_lists_only_the_operators_merchant(client, tenants):
    login(client, tenants["amos"])
    inbox = client.get("/console/inbox")
    assert inbox.status_code == 200
    assert "Ana" in inbox.text and MARK not in inbox.text
    assert MARK not in client.get("/console/inbox/rows", params={"view": "needs_human"}).text
    theirs = tenants["b"]["conversation_id"]
    page = client.get(f"/console/conversations/{theirs}")
    assert page.status_code == 404 and MARK not in page.text
    notification = tenants["b"]["notification_id"]
    assert client.get(f"/console/notifications/{notification}").status_code == 404


def test_a_console_session_follows_the_operators_merchant(client, tenants):
    """Rights are read again on every request: moving an operator to another merchant
    changes what their open session sees."""
    from persistence.models import Operator

    login(client, tenants["amos"])
    theirs = f"/console/conversations/{tenants['b']['conversation_id']}"
    assert client.get(theirs).status_code == 404
    with session_scope() as session:
        amos = session.query(Operator).filter_by(name="Amos").one()
        amos.merchant_id = tenants["b"]["merchant_id"]
    assert client.get(theirs).status_code == 200
    assert client.get(f"/console/conversations/{tenants['mine']}").status_code == 404


def test_0013_moves_existing_operators_to_the_default_merchant_and_back(scratch):  # noqa: F811
    url, engine = scratch
    command.upgrade(alembic_config(url), "0012")
    operator = "INSERT INTO operators (name, token_hash, is_admin) VALUES ('{0}', '{0}', {1})"
    _insert(engine, operator.format("early", "true"))
    command.upgrade(alembic_config(url), "0013")  # no merchant yet: left platform-wide
    assert _rows(engine, "SELECT name, merchant_id FROM operators") == [("early", None)]
    command.downgrade(alembic_config(url), "0012")
    _insert(
        engine, MERCHANT, MERCHANT.replace("(1, 'Shop'", "(2, 'Other'"),
        operator.format("olga", "false"),
    )  # fmt: skip
    command.upgrade(alembic_config(url), "0013")
    rows = _rows(engine, "SELECT name, merchant_id FROM operators ORDER BY id")
    assert rows == [("early", 1), ("olga", 1)]
    command.downgrade(alembic_config(url), "0012")
    assert _rows(engine, "SELECT count(*) FROM operators") == [(2,)]


def test_the_cli_creates_an_operator_of_a_merchant(merchant, capsys):
    from persistence.models import Operator
    from scripts.manage import main

    assert main(["create-operator", "Mia", "--merchant-id", str(merchant["id"])]) == 0
    assert main(["create-operator", "Mia", "--merchant-id", "999"]) == 1  # no such merchant
    with session_scope() as session:
        rows = session.query(Operator.name, Operator.merchant_id).all()
    assert rows == [("Mia", merchant["id"])]
    assert main(["list"]) == 0
    assert f"Mia (operator, merchant {merchant['id']})" in capsys.readouterr().out


def test_stats_answer_a_merchants_operator_with_their_merchants_figures(client, tenants):
    amos = {"Authorization": f"Bearer {tenants['amos']}"}
    own = client.get("/stats", headers=amos)
    assert own.status_code == 200, own.text
    figures = own.json()
    assert figures["merchant_id"] == tenants["a"] and figures["needs_human"] == 0  # B's waits
    assert figures["messages"]["in"] == 1  # A's "hi A", not B's
    assert "queues" not in figures and "webhook_rejections" not in figures
    assert (
        client.get(f"/stats?merchant_id={tenants['b']['merchant_id']}", headers=amos).status_code
        == 404
    )

    everyone = client.get("/stats", headers=ADMIN).json()
    assert everyone["merchant_id"] is None and everyone["needs_human"] == 1
    assert everyone["messages"]["in"] == 2 and "queues" in everyone
    only_b = client.get(f"/stats?merchant_id={tenants['b']['merchant_id']}", headers=ADMIN).json()
    assert (only_b["needs_human"], only_b["messages"]["in"]) == (1, 1)
    assert client.get("/stats?merchant_id=999999", headers=ADMIN).status_code == 404


def test_metrics_stay_deployment_wide_for_ops_only(client, tenants):
    amos = {"Authorization": f"Bearer {tenants['amos']}"}
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=amos).status_code == 403
    assert client.get("/metrics", headers=ADMIN).status_code == 200
