from collections.abc import Iterator

import httpx
import pytest

from channels.errors import AuthError, DeliveryOutcomeUnknown, InvalidRequest, RateLimited
from channels.whatsapp import Recipient, WhatsAppClient
from tests.fakes.graph_api import FakeGraphAPI

PHONE_ID = "106540352242922"
TOKEN = "EAAG-fake"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeGraphAPI]:
    with FakeGraphAPI(tokens={PHONE_ID: TOKEN}) as started:
        assert isinstance(started, FakeGraphAPI)
        yield started


@pytest.fixture
def fake(server: FakeGraphAPI) -> FakeGraphAPI:
    server.reset()
    return server


def make_client(fake: FakeGraphAPI, **kwargs: object) -> WhatsAppClient:
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
