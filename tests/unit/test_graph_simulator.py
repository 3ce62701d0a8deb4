import json
from collections.abc import Iterator

import httpx
import pytest

from channels.errors import AuthError, DeliveryOutcomeUnknown, InvalidRequest, RateLimited
from channels.simulators.graph import GraphSimulator
from channels.simulators.graph_sends import Delivery
from channels.simulators.graph_wire import GraphError
from channels.simulators.http import Request
from channels.whatsapp import Recipient, WhatsAppClient

PHONE_ID = "106540352242922"
TOKEN = "EAAG-fake"


@pytest.fixture(scope="module")
def server() -> Iterator[GraphSimulator]:
    with GraphSimulator(tokens={PHONE_ID: TOKEN}) as started:
        assert isinstance(started, GraphSimulator)
        yield started


@pytest.fixture
def fake(server: GraphSimulator) -> GraphSimulator:
    server.reset()
    return server


def make_client(fake: GraphSimulator, **kwargs: object) -> WhatsAppClient:
    options: dict = {"backoff_base": 0.001, "timeout": 2.0, **kwargs}
    options.setdefault("access_token", TOKEN)
    return WhatsAppClient(api_root=fake.api_root, phone_number_id=PHONE_ID, **options)


def test_send_round_trip_records_the_message_and_returns_its_wamid(fake) -> None:
    with make_client(fake) as client:
        wamid = client.send_text(Recipient(wa_id="5215550001"), "Hola", callback_data="t1")
    [sent] = fake.wait_for_sent(1)
    assert wamid.startswith("wamid.")
    assert sent["_wamid"] == wamid
    assert sent["biz_opaque_callback_data"] == "t1"
    assert fake.texts_to("5215550001") == ["Hola"]


def test_user_id_recipient_round_trip(fake) -> None:
    with make_client(fake) as client:
        first = client.send_text(Recipient(user_id="US.13491208655302741918"), "uno")
        second = client.send_text(Recipient(user_id="US.13491208655302741918"), "dos")
    assert first != second
    assert fake.texts_to("US.13491208655302741918") == ["uno", "dos"]


def test_send_response_has_the_cloud_api_shape(fake) -> None:
    response = httpx.post(
        f"{fake.api_root}/{PHONE_ID}/messages",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"messaging_product": "whatsapp", "to": "+5215550001", "text": {"body": "hi"}},
    )
    body = response.json()
    assert response.status_code == 200
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+5215550001", "wa_id": "5215550001"}]
    assert body["messages"][0]["id"] == fake.sent[0]["_wamid"]


def test_wrong_token_is_rejected_with_oauth_error(fake) -> None:
    with make_client(fake, access_token="nope") as client, pytest.raises(AuthError) as caught:
        client.send_text(Recipient(wa_id="1"), "hi")
    assert (caught.value.code, caught.value.http_status) == (190, 401)
    assert fake.sent == []


def test_invalid_body_gets_code_100_with_details(fake) -> None:
    with make_client(fake) as client, pytest.raises(InvalidRequest) as caught:
        client.send_text(Recipient(wa_id="1"), "x" * 4097)
    assert caught.value.code == 100
    assert "4096" in (caught.value.details or "")


def test_both_to_and_recipient_is_invalid(fake) -> None:
    with make_client(fake) as client, pytest.raises(InvalidRequest):
        client.send({"to": "1", "recipient": "US.1", "type": "text", "text": {"body": "hi"}})


def test_scripted_rate_limit_is_retried_by_the_client(fake) -> None:
    fake.fail_next(2, code=130429, http_status=429, retry_after=0.01)
    with make_client(fake) as client:
        client.send_text(Recipient(wa_id="1"), "hi")
    assert len(fake.requests) == 3
    assert len(fake.sent) == 1


def test_scripted_failure_exhausts_retries(fake) -> None:
    fake.fail_next(5, code=130429)
    with make_client(fake, max_attempts=2) as client, pytest.raises(RateLimited):
        client.send_text(Recipient(wa_id="1"), "hi")
    assert len(fake.requests) == 2


def test_mark_read_is_recorded_apart_from_sends(fake) -> None:
    with make_client(fake) as client:
        client.mark_read("wamid.IN")
    assert fake.reads == [
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": "wamid.IN",
            "typing_indicator": {"type": "text"},
        }
    ]
    assert fake.sent == []


def test_slow_answer_is_outcome_unknown_though_meta_sent_it(fake) -> None:
    fake.delay_next(0.5)
    with make_client(fake, timeout=0.1) as client, pytest.raises(DeliveryOutcomeUnknown):
        client.send_text(Recipient(wa_id="1"), "hi")
    assert len(fake.requests) == 1
    assert fake.texts_to("1") == ["hi"]


def test_dropped_connection_after_accepting_is_outcome_unknown(fake) -> None:
    fake.accept_then_drop_next()
    with make_client(fake) as client:
        with pytest.raises(DeliveryOutcomeUnknown):
            client.send_text(Recipient(wa_id="1"), "first")
        client.send_text(Recipient(wa_id="1"), "second")
    assert len(fake.requests) == 2
    assert fake.texts_to("1") == ["first", "second"]


def test_wait_for_sent_reports_what_arrived(fake) -> None:
    with pytest.raises(AssertionError, match="got 0"):
        fake.wait_for_sent(1, timeout=0.05)


def test_reset_clears_records_and_scripts(fake) -> None:
    fake.fail_next(3)
    with make_client(fake, max_attempts=1) as client, pytest.raises(Exception):  # noqa: B017
        client.send_text(Recipient(wa_id="1"), "hi")
    fake.reset()
    with make_client(fake) as client:
        client.send_text(Recipient(wa_id="1"), "hi")
    assert len(fake.requests) == 1


# --- hosted by another server (the sandbox): handle() called directly ----------------


def wire(method: str, path: str, body: object = None, token: str = TOKEN, **query: str) -> Request:
    return Request(
        method=method,
        path=path,
        query={k: [v] for k, v in query.items()},
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        body=json.dumps(body).encode() if body is not None else b"",
    )


def test_a_hosted_simulator_tells_its_host_about_each_accepted_send() -> None:
    seen: list[Delivery] = []
    graph = GraphSimulator(version=None, tokens={PHONE_ID: TOKEN}, on_send=seen.append)
    body = {
        "messaging_product": "whatsapp", "to": "+1555", "type": "image",
        "image": {"id": "77", "caption": "Red"}, "biz_opaque_callback_data": "c:1",
    }  # fmt: skip
    answer = graph.handle(wire("POST", f"/v99.0/{PHONE_ID}/messages", body))
    assert answer.status == 200
    wamid = json.loads(answer.body)["messages"][0]["id"]
    assert seen == [
        Delivery(
            phone_number_id=PHONE_ID, recipient="1555", wamid=wamid, kind="image", text="Red",
            media_id="77", callback="c:1",
        )
    ]  # fmt: skip
    refused = graph.handle(wire("POST", f"/v99.0/{PHONE_ID}/messages", {**body, "image": {}}))
    assert refused.status == 400 and len(seen) == 1


def test_a_fixed_version_refuses_other_versions_as_unsupported(fake) -> None:
    body = {"messaging_product": "whatsapp", "to": "1", "text": {"body": "hi"}}
    response = httpx.post(
        f"{fake.url}/v1.0/{PHONE_ID}/messages",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["error_subcode"]) == (400, 100, 33)
    assert fake.sent == []


def test_the_host_can_refuse_a_read_receipt() -> None:
    def unknown(phone_number_id: str, message_id: str, typing: bool) -> None:
        raise GraphError(100, details=f"message {message_id} does not exist")

    graph = GraphSimulator(version=None, on_read=unknown)
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"}
    answer = graph.handle(wire("POST", f"/v23.0/{PHONE_ID}/messages", read))
    assert answer.status == 400
    assert (
        json.loads(answer.body)["error"]["error_data"]["details"]
        == "message wamid.X does not exist"
    )
    assert graph.reads == []


def test_media_urls_point_at_the_public_url_and_info_is_scoped_to_the_named_number() -> None:
    graph = GraphSimulator(tokens={PHONE_ID: TOKEN, "222": "other"}, public_url="http://h/sb/graph")
    media_id = graph.add_media(b"jpeg", "image/jpeg")
    info = graph.handle(wire("GET", f"/v23.0/{media_id}", phone_number_id=PHONE_ID))
    assert json.loads(info.body)["url"].startswith(f"http://h/sb/graph/media-download/{media_id}?")
    assert json.loads(info.body)["file_size"] == "4"
    wrong = graph.handle(wire("GET", f"/v23.0/{media_id}", token="other", phone_number_id=PHONE_ID))
    assert wrong.status == 401 and json.loads(wrong.body)["error"]["code"] == 190
    assert graph.handle(wire("GET", f"/v23.0/{media_id}", token="other")).status == 200


def test_an_upload_needs_metas_form_fields(fake) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{fake.api_root}/{PHONE_ID}/media"
    files = {"file": ("a.png", b"png", "image/png")}
    no_type = httpx.post(url, data={"messaging_product": "whatsapp"}, files=files, headers=headers)
    assert no_type.status_code == 400 and "type" in no_type.json()["error"]["error_data"]["details"]
    ok = httpx.post(
        url,
        data={"messaging_product": "whatsapp", "type": "image/png"},
        files=files,
        headers=headers,
    )
    assert ok.status_code == 200 and fake.uploads[0]["data"] == b"png"
