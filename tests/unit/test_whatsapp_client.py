import json
from collections.abc import Iterator

import httpx
import pytest
import respx

from channels import whatsapp
from channels.errors import (
    AuthError,
    DeliveryOutcomeUnknown,
    InvalidRequest,
    OutsideServiceWindow,
    PairRateLimited,
    RateLimited,
    TransientError,
    Undeliverable,
    WhatsAppError,
    error_from_response,
    error_from_status_errors,
)
from channels.whatsapp import Recipient, WhatsAppClient
from channels.whatsapp_messages import addressing

ROOT = "https://graph.test/v23.0"
URL = f"{ROOT}/123456/messages"
TOKEN = "EAAG-secret-token"
OK = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "5215550001", "wa_id": "5215550001"}],
    "messages": [{"id": "wamid.OK1"}],
}


def graph_error(code: int, status: int = 400, **extra: object) -> httpx.Response:
    error = {"message": f"(#{code}) boom", "type": "OAuthException", "code": code, **extra}
    return httpx.Response(status, json={"error": error})


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    calls: list[float] = []
    monkeypatch.setattr(whatsapp, "_sleep", calls.append)
    return calls


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def client() -> Iterator[WhatsAppClient]:
    with WhatsAppClient(
        api_root=ROOT, access_token=TOKEN, phone_number_id="123456", backoff_base=0.001
    ) as c:
        yield c


def body_of(route: respx.Route, index: int = -1) -> dict:
    return json.loads(route.calls[index].request.content)


def test_send_text_posts_the_cloud_api_shape_and_returns_the_wamid(api, client) -> None:
    route = api.post(URL).mock(return_value=httpx.Response(200, json=OK))
    wamid = client.send_text(Recipient(wa_id="5215550001"), "Hola")
    assert wamid == "wamid.OK1"
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert body_of(route) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5215550001",
        "type": "text",
        "text": {"body": "Hola", "preview_url": False},
    }


def test_send_text_adds_context_and_callback_data(api, client) -> None:
    route = api.post(URL).mock(return_value=httpx.Response(200, json=OK))
    client.send_text(
        Recipient(wa_id="1"), "hi", reply_to="wamid.IN", callback_data="turn-9", preview_url=True
    )
    body = body_of(route)
    assert body["context"] == {"message_id": "wamid.IN"}
    assert body["biz_opaque_callback_data"] == "turn-9"
    assert body["text"]["preview_url"] is True


def test_user_id_only_recipient_is_sent_as_recipient(api, client) -> None:
    route = api.post(URL).mock(return_value=httpx.Response(200, json=OK))
    client.send_text(Recipient(user_id="US.1349120865"), "hi")
    body = body_of(route)
    assert body["recipient"] == "US.1349120865"
    assert "to" not in body


def test_wa_id_preferred_when_both_known() -> None:
    assert addressing(Recipient(wa_id="52155", user_id="US.1")) == {"to": "52155"}


def test_recipient_needs_an_id() -> None:
    with pytest.raises(ValueError):
        Recipient()


def test_mark_read_sends_read_status_with_typing_indicator(api, client) -> None:
    route = api.post(URL).mock(return_value=httpx.Response(200, json={"success": True}))
    client.mark_read("wamid.IN")
    client.mark_read("wamid.IN2", typing=False)
    assert body_of(route, 0) == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN",
        "typing_indicator": {"type": "text"},
    }
    assert "typing_indicator" not in body_of(route, 1)


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        (4, 400, RateLimited),
        (613, 400, RateLimited),
        (80007, 400, RateLimited),
        (130429, 400, RateLimited),
        (131056, 400, PairRateLimited),
        (131047, 400, OutsideServiceWindow),
        (131026, 400, Undeliverable),
        (190, 401, AuthError),
        (1, 500, TransientError),
        (2, 503, TransientError),
        (131000, 500, TransientError),
        (131016, 503, TransientError),
        (133004, 503, TransientError),
        (100, 400, InvalidRequest),
        (131051, 400, InvalidRequest),
    ],
)
def test_error_codes_map_to_classes(code: int, status: int, cls: type) -> None:
    body = {
        "error": {
            "message": f"(#{code}) title",
            "type": "OAuthException",
            "code": code,
            "error_subcode": 2494010,
            "error_data": {"messaging_product": "whatsapp", "details": "why"},
            "fbtrace_id": "Atrace",
        }
    }
    err = error_from_response(status, json.dumps(body).encode())
    assert type(err) is cls
    assert (err.code, err.subcode, err.details, err.fbtrace_id) == (code, 2494010, "why", "Atrace")
    assert err.http_status == status
    assert str(code) in str(err)


@pytest.mark.parametrize(
    ("status", "cls"),
    [(429, RateLimited), (401, AuthError), (502, TransientError), (404, InvalidRequest)],
)
def test_http_status_decides_without_a_known_code(status: int, cls: type) -> None:
    err = error_from_response(status, b"<html>Bad Gateway</html>", {"Retry-After": "3"})
    assert type(err) is cls
    assert err.code is None
    assert err.retry_after == 3.0


def test_status_webhook_errors_map_by_code() -> None:
    err = error_from_status_errors(
        [
            {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {"details": "more than 24 hours"},
            }
        ]
    )
    assert isinstance(err, OutsideServiceWindow)
    assert err.title == "Re-engagement message"
    assert err.details == "more than 24 hours"
    assert type(error_from_status_errors([{"code": 999999, "title": "new"}])) is WhatsAppError


def test_retries_429_then_succeeds(api, client, sleeps) -> None:
    route = api.post(URL).mock(
        side_effect=[
            graph_error(130429, 429),
            graph_error(130429, 429),
            httpx.Response(200, json=OK),
        ]
    )
    assert client.send_text(Recipient(wa_id="1"), "hi") == "wamid.OK1"
    assert route.call_count == 3
    assert len(sleeps) == 2
    assert all(0 < s <= 0.002 for s in sleeps)


def test_retry_after_is_honoured(api, client, sleeps) -> None:
    limited = graph_error(130429, 429)
    limited.headers["Retry-After"] = "2"
    api.post(URL).mock(side_effect=[limited, httpx.Response(200, json=OK)])
    client.send_text(Recipient(wa_id="1"), "hi")
    assert sleeps == [2.0]


def test_gives_up_after_max_attempts_with_the_typed_error(api, sleeps) -> None:
    route = api.post(URL).mock(return_value=graph_error(131000, 500))
    c = WhatsAppClient(api_root=ROOT, access_token=TOKEN, phone_number_id="123456", max_attempts=3)
    with c, pytest.raises(TransientError) as caught:
        c.send_text(Recipient(wa_id="1"), "hi")
    assert caught.value.code == 131000
    assert route.call_count == 3
    # backoff_base 0.5 doubling, with jitter in the upper half of each window
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0


def test_pair_rate_limit_is_retried_at_the_pair_pace(api, client, sleeps) -> None:
    route = api.post(URL).mock(side_effect=[graph_error(131056), httpx.Response(200, json=OK)])
    client.send_text(Recipient(wa_id="1"), "hi")
    assert route.call_count == 2
    assert sleeps == [6.0]  # one message per 6 s to the same person


def test_outside_service_window_is_not_retried(api, client, sleeps) -> None:
    route = api.post(URL).mock(return_value=graph_error(131047))
    with pytest.raises(OutsideServiceWindow):
        client.send_text(Recipient(wa_id="1"), "hi")
    assert route.call_count == 1
    assert sleeps == []


def test_auth_error_is_not_retried(api, client, sleeps) -> None:
    route = api.post(URL).mock(return_value=graph_error(190, 401))
    with pytest.raises(AuthError):
        client.send_text(Recipient(wa_id="1"), "hi")
    assert route.call_count == 1


def test_read_timeout_on_send_is_outcome_unknown_without_retry(api, client, sleeps) -> None:
    route = api.post(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(DeliveryOutcomeUnknown):
        client.send_text(Recipient(wa_id="1"), "hi")
    assert route.call_count == 1
    assert sleeps == []


def test_dropped_connection_on_send_is_outcome_unknown(api, client, sleeps) -> None:
    route = api.post(URL).mock(side_effect=httpx.RemoteProtocolError("disconnected"))
    with pytest.raises(DeliveryOutcomeUnknown):
        client.send_text(Recipient(wa_id="1"), "hi")
    assert route.call_count == 1


def test_connect_error_is_retried_because_nothing_was_sent(api, client, sleeps) -> None:
    route = api.post(URL).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=OK)]
    )
    assert client.send_text(Recipient(wa_id="1"), "hi") == "wamid.OK1"
    assert route.call_count == 2


def test_mark_read_retries_read_timeouts(api, client, sleeps) -> None:
    route = api.post(URL).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json={"success": True})]
    )
    client.mark_read("wamid.IN")
    assert route.call_count == 2


def test_success_without_a_wamid_is_outcome_unknown(api, client) -> None:
    api.post(URL).mock(return_value=httpx.Response(200, json={"messaging_product": "whatsapp"}))
    with pytest.raises(DeliveryOutcomeUnknown):
        client.send_text(Recipient(wa_id="1"), "hi")


def test_token_never_appears_in_logs_or_errors(api, client, sleeps, caplog) -> None:
    caplog.set_level("DEBUG")
    api.post(URL).mock(return_value=graph_error(131000, 500))
    with pytest.raises(TransientError) as caught:
        client.send_text(Recipient(wa_id="1"), "hi")
    assert "whatsapp.send.retry" in caplog.text
    assert TOKEN not in caplog.text
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(client)
