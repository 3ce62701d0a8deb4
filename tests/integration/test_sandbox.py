"""The WhatsApp sandbox over HTTP: its chat posts real signed webhooks, and its fake Graph
API speaks the wire format our WhatsApp client speaks in production."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from channels.errors import WhatsAppError
from channels.whatsapp import Recipient, WhatsAppClient
from persistence.db import session_scope
from persistence.models import Conversation, Customer, Message, PhoneNumber
from services.conversations.view import conversation_view
from services.merchants.operator import create_operator
from services.sandbox import sandbox
from tests.integration import sandbox_helpers
from tests.integration.console_helpers import login, submit

pytestmark = [
    pytest.mark.integration,
    # our WhatsApp client passes a timeout; TestClient ignores it and says so
    pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument"),
]
ANA = sandbox.DEFAULT_CUSTOMER.wa_id


sandbox_app = sandbox_helpers.sandbox_app  # the fixture, for sandbox_client below


@pytest.fixture
def sandbox_client(sandbox_app: TestClient) -> TestClient:
    """The app with the sandbox on, signed in as a platform operator."""
    with session_scope() as session:
        _, token = create_operator(session, name="Olga")
    assert login(sandbox_app, token).status_code == 303
    return sandbox_app


def _number() -> PhoneNumber:
    with session_scope() as session:
        return session.scalars(
            select(PhoneNumber).where(PhoneNumber.phone_number_id == sandbox.PHONE_NUMBER_ID)
        ).one()


def _graph(client: TestClient) -> WhatsAppClient:
    """Our production WhatsApp client, talking to the sandbox's fake Graph API."""
    phone = _number()
    return WhatsAppClient(
        api_root="http://testserver/sandbox/graph/v23.0",
        access_token=phone.access_token,
        phone_number_id=phone.phone_number_id,
        http=client,
        max_attempts=1,
        media_hosts=["http://testserver"],
    )


def _thread(client: TestClient, wa_id: str = ANA) -> str:
    return client.get(f"/sandbox/chats/{wa_id}/thread").text


def test_the_sandbox_needs_a_console_login(sandbox_client):
    sandbox_client.cookies.clear()
    response = sandbox_client.get("/sandbox", follow_redirects=False)
    assert response.status_code == 303 and "/console/login" in response.headers["location"]


def test_a_customer_message_reaches_the_webhook_as_whatsapp_sends_it(sandbox_client):
    page = sandbox_client.get("/sandbox")
    assert page.status_code == 200 and "Ana Customer" in page.text
    sent = submit(sandbox_client, f"/sandbox/chats/{ANA}/send", {"text": "Do you sell socks?"})
    assert sent.status_code == 303
    with session_scope() as session:
        message = session.scalars(select(Message)).one()
        conversation = session.get(Conversation, message.conversation_id)
        customer = session.get(Customer, conversation.customer_id)
        assert message.text == "Do you sell socks?" and message.wamid.startswith("wamid.")
        assert customer.wa_id == ANA and customer.profile_name == "Ana Customer"
        assert message.raw["from"] == ANA
    thread = _thread(sandbox_client)
    assert "Do you sell socks?" in thread and "status-delivered" in thread


def test_the_admin_plays_a_merchant_user_so_theirs_is_an_admin_conversation(sandbox_client):
    sandbox_client.get(f"/sandbox?chat={sandbox.ADMIN.wa_id}")
    submit(sandbox_client, f"/sandbox/chats/{sandbox.ADMIN.wa_id}/send", {"text": "hi team"})
    with session_scope() as session:
        conversation_id = session.scalars(select(Conversation.id)).one()
        view = conversation_view(session, conversation_id)
        assert view.staff is not None and view.staff.type == "admin"


def test_new_customers_get_their_own_chat(sandbox_client):
    created = submit(sandbox_client, "/sandbox/people", {"name": "Bea"})
    wa_id = created.headers["location"].split("chat=")[1]
    assert wa_id.startswith("155501") and wa_id != ANA
    assert "Bea" in sandbox_client.get(created.headers["location"]).text


def test_business_sends_appear_on_the_phone_and_report_delivery(sandbox_client):
    sandbox_client.get("/sandbox")
    graph = _graph(sandbox_client)
    wamid = graph.send_text(Recipient(wa_id=ANA), "Yes, wool socks!", callback_data="sb:42")
    assert wamid.startswith("wamid.")
    thread = _thread(sandbox_client)
    assert "Yes, wool socks!" in thread and f'data-wamid="{wamid}"' in thread
    from services.sandbox import phone as sandbox_phone

    redis_client = sandbox_client.app.state.redis()
    bubble = sandbox_phone.thread(redis_client, sandbox.PHONE_NUMBER_ID, ANA)[-1]
    assert bubble.callback == "sb:42" and bubble.status in ("delivered", "read")


def test_templates_show_their_name_and_parameters(sandbox_client):
    sandbox_client.get("/sandbox")
    _graph(sandbox_client).send(
        {
            "to": ANA,
            "type": "template",
            "template": {
                "name": "question_answered",
                "language": {"code": "en"},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": "NOTIF_7"},
                                                    {"type": "text", "text": "Yes, size 44"}]},
                    {"type": "button", "sub_type": "quick_reply", "index": "0",
                     "parameters": [{"type": "payload", "payload": "Thanks"}]},
                ],
            },
        }
    )  # fmt: skip
    thread = _thread(sandbox_client)
    assert "question_answered" in thread and "NOTIF_7" in thread and "Yes, size 44" in thread
    assert "Thanks" in thread


def test_uploaded_media_is_sent_by_id_and_shown(sandbox_client):
    sandbox_client.get("/sandbox")
    graph = _graph(sandbox_client)
    media_id = graph.upload_media(b"\x89PNG-image", "image/png", "shoe.png")
    graph.send({"to": ANA, "type": "image", "image": {"id": media_id, "caption": "Red runner"}})
    thread = _thread(sandbox_client)
    assert f'src="/sandbox/media/{media_id}?merchant_id=' in thread and "Red runner" in thread
    assert sandbox_client.get(f"/sandbox/media/{media_id}").content == b"\x89PNG-image"


def test_a_customer_photo_can_be_fetched_like_from_meta(sandbox_client):
    sandbox_client.get("/sandbox")
    submit(
        sandbox_client, f"/sandbox/chats/{ANA}/send", {"text": "this one"},
        files={"file": ("mine.jpg", b"\xff\xd8jpeg-bytes", "image/jpeg")},
    )  # fmt: skip
    with session_scope() as session:
        message = session.scalars(select(Message)).one()
        assert message.type == "image" and message.text == "this one"
        media_id = message.media["id"]
    graph = _graph(sandbox_client)
    info = graph.media_info(media_id)
    assert info.mime_type == "image/jpeg" and info.file_size == len(b"\xff\xd8jpeg-bytes")
    assert graph.download(info.url, max_bytes=1000) == b"\xff\xd8jpeg-bytes"


def test_read_receipts_turn_the_ticks_blue_and_show_typing(sandbox_client):
    sandbox_client.get("/sandbox")
    submit(sandbox_client, f"/sandbox/chats/{ANA}/send", {"text": "hello"})
    with session_scope() as session:
        wamid = session.scalars(select(Message.wamid)).one()
    _graph(sandbox_client).mark_read(wamid, typing=True)
    thread = _thread(sandbox_client)
    assert "status-read" in thread and "typing…" in thread


def test_the_fake_graph_api_refuses_what_meta_refuses(sandbox_client):
    sandbox_client.get("/sandbox")
    phone = _number()
    url = f"/sandbox/graph/v23.0/{phone.phone_number_id}/messages"
    body = {"messaging_product": "whatsapp", "to": ANA, "type": "text", "text": {"body": "x"}}
    no_token = sandbox_client.post(url, json=body)
    assert no_token.status_code == 401 and no_token.json()["error"]["code"] == 190
    wrong = sandbox_client.post(url, json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    with pytest.raises(WhatsAppError) as refused:
        _graph(sandbox_client).send({"to": ANA, "type": "text", "text": {"body": ""}})
    assert refused.value.code == 100
    assert re.search(r"wa-empty", _thread(sandbox_client))


TEMPLATES_URL = f"/sandbox/graph/v23.0/{sandbox.WABA_ID}/message_templates"


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {_number().access_token}"}


def _submit_template(client: TestClient, name: str, text: str, *samples: str) -> httpx.Response:
    body: dict = {"type": "BODY", "text": text}
    if samples:
        body["example"] = {"body_text": [list(samples)]}
    template = {"name": name, "language": "en", "category": "UTILITY", "components": [body]}
    return client.post(TEMPLATES_URL, json=template, headers=_auth())


def test_template_submissions_are_approved_at_once(sandbox_client):
    sandbox_client.get("/sandbox")
    question = ("question_request", "New question: {{1}}. Reply here.", "Size 44?")
    created = _submit_template(sandbox_client, *question)
    assert created.status_code == 200 and created.json()["status"] == "APPROVED"
    again = _submit_template(sandbox_client, *question)
    assert again.status_code == 400 and again.json()["error"]["error_subcode"] == 2388024
    listed = sandbox_client.get(TEMPLATES_URL, params={"name": "question_request"}, headers=_auth())
    assert [(t["name"], t["language"], t["status"]) for t in listed.json()["data"]] == [
        ("question_request", "en", "APPROVED")
    ]
    assert sandbox_client.get(TEMPLATES_URL).status_code == 401


def test_template_submissions_meta_would_refuse_are_refused(sandbox_client):
    sandbox_client.get("/sandbox")
    refused = _submit_template(sandbox_client, "question_request", "New question: {{1}}")
    assert refused.status_code == 400
    assert refused.json()["error"]["error_user_title"] == "Variables can't be at the start or end"


def test_a_template_send_is_checked_against_the_approved_template(sandbox_client):
    sandbox_client.get("/sandbox")
    created = _submit_template(sandbox_client, "order_ready", "Order {{1}} is ready.", "A-1")
    assert created.status_code == 200
    template = {"name": "order_ready", "language": {"code": "en"}, "components": []}
    with pytest.raises(WhatsAppError) as refused:
        _graph(sandbox_client).send({"to": ANA, "type": "template", "template": template})
    assert refused.value.code == 132000


def test_reading_a_message_the_number_never_received_is_refused(sandbox_client):
    sandbox_client.get("/sandbox")
    with pytest.raises(WhatsAppError) as refused:
        _graph(sandbox_client).mark_read("wamid.UNKNOWN", typing=False)
    assert refused.value.code == 100


def test_unknown_graph_paths_answer_metas_unsupported_request(sandbox_client):
    sandbox_client.get("/sandbox")
    answer = sandbox_client.get("/sandbox/graph/v23.0/123/nothing", headers=_auth())
    assert answer.status_code == 400
    assert (answer.json()["error"]["code"], answer.json()["error"]["error_subcode"]) == (100, 33)


def test_opening_the_sandbox_connects_its_demo_store_and_queues_its_sync(sandbox_client):
    from persistence.models import ShopifyStore
    from services.sandbox import demo_store
    from settings import SANDBOX_SHOP_DOMAIN

    assert sandbox_client.get("/sandbox").status_code == 200
    assert sandbox_client.get("/sandbox").status_code == 200  # connected once
    with session_scope() as session:
        [store] = session.scalars(select(ShopifyStore)).all()
        assert store.shop_domain == SANDBOX_SHOP_DOMAIN and store.sync_status == "queued"
        assert store.merchant_id == _number().merchant_id
        assert store.storefront_access_token == demo_store.STOREFRONT_TOKEN
    # the demo store's Admin API answers in the app, with Shopify's token check
    query = {"query": "{ productsCount { count } }"}
    url = "/sandbox/shopify/admin/api/2025-10/graphql.json"
    denied = sandbox_client.post(url, json=query, headers={"X-Shopify-Access-Token": "x"})
    assert denied.status_code == 401
    counted = sandbox_client.post(
        url, json=query, headers={"X-Shopify-Access-Token": demo_store.ADMIN_TOKEN}
    )
    assert counted.json()["data"]["productsCount"]["count"] == 6


def test_another_merchants_operator_can_neither_drive_nor_read_the_demo_sandbox(
    sandbox_client,
):
    from services.merchants.merchant import create_merchant

    assert "Ana Customer" in sandbox_client.get("/sandbox").text  # the platform operator
    demo = _number().merchant_id
    with session_scope() as session:
        other = create_merchant(session, name="Other Shop")
        _, token = create_operator(session, name="Otto", merchant_id=other.id)
    sandbox_client.cookies.clear()
    assert login(sandbox_client, token).status_code == 303
    own = sandbox_client.get("/sandbox")  # Otto plays his own merchant's customers
    assert own.status_code == 200 and "Other Shop" in own.text
    assert sandbox_client.get(f"/sandbox?merchant_id={demo}").status_code == 404
    assert sandbox_client.get(f"/sandbox/chats/{ANA}/thread?merchant_id={demo}").status_code == 404
    page = sandbox_client.get("/console/inbox")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    sent = sandbox_client.post(
        f"/sandbox/chats/{ANA}/send?merchant_id={demo}",
        data={"csrf_token": csrf, "text": "hi from Otto"}, follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 404
    with session_scope() as session:
        assert "hi from Otto" not in str(session.scalars(select(Message.text)).all())


def test_the_sandbox_merchants_own_operator_uses_it(sandbox_client):
    sandbox_client.get("/sandbox")  # creates the sandbox merchant
    with session_scope() as session:
        _, token = create_operator(session, name="Sam", merchant_id=_number().merchant_id)
    sandbox_client.cookies.clear()
    assert login(sandbox_client, token).status_code == 303
    assert sandbox_client.get("/sandbox").status_code == 200
