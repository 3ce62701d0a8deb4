"""WhatsAppClient.media_info and .download against the Graph API's wire format (respx)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from channels import whatsapp
from channels.errors import InvalidRequest, MediaTooLarge, MediaUrlExpired
from channels.whatsapp import MediaInfo, WhatsAppClient

ROOT = "https://graph.test/v23.0"
CDN = "https://lookaside.test/whatsapp_business/attachments/?mid=1&hash=x"
TOKEN = "EAAG-secret-token"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[WhatsAppClient]:
    monkeypatch.setattr(whatsapp, "_sleep", lambda _: None)
    with WhatsAppClient(
        api_root=ROOT, access_token=TOKEN, phone_number_id="123456", media_hosts=["lookaside.test"]
    ) as c:
        yield c


def test_media_info_reads_the_real_response(api: respx.MockRouter, client: WhatsAppClient):
    route = api.get(f"{ROOT}/2621233374848975").respond(
        json={
            "messaging_product": "whatsapp",
            "url": CDN,
            "mime_type": "image/jpeg",
            "sha256": "81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3",
            "file_size": "303833",
            "id": "2621233374848975",
        }
    )
    info = client.media_info("2621233374848975")
    assert info == MediaInfo(
        url=CDN,
        mime_type="image/jpeg",
        sha256="81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3",
        file_size=303833,
        id="2621233374848975",
    )
    assert route.calls[0].request.headers["authorization"] == f"Bearer {TOKEN}"


def test_media_info_retries_server_errors(api: respx.MockRouter, client: WhatsAppClient):
    ok = {"url": CDN, "mime_type": "image/png", "sha256": "", "file_size": 3, "id": "9"}
    route = api.get(f"{ROOT}/9")
    route.side_effect = [httpx.Response(500), httpx.Response(200, json=ok)]
    assert client.media_info("9").file_size == 3
    assert route.call_count == 2


def test_an_unknown_media_id_is_not_retried(api: respx.MockRouter, client: WhatsAppClient):
    error = {"message": "Unsupported get request", "type": "GraphMethodException", "code": 100}
    route = api.get(f"{ROOT}/404").respond(400, json={"error": error})
    with pytest.raises(InvalidRequest):
        client.media_info("404")
    assert route.call_count == 1


def test_download_sends_the_token_and_returns_the_bytes(
    api: respx.MockRouter, client: WhatsAppClient
):
    route = api.get(CDN).respond(
        200, content=b"\xff\xd8data", headers={"Content-Type": "image/jpeg"}
    )
    assert client.download(CDN, max_bytes=100) == b"\xff\xd8data"
    assert route.calls[0].request.headers["authorization"] == f"Bearer {TOKEN}"


def test_download_over_the_limit_stops_while_streaming(
    api: respx.MockRouter, client: WhatsAppClient
):
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b"x" * 1000

    api.get(CDN).mock(return_value=httpx.Response(200, content=chunks()))  # no Content-Length
    with pytest.raises(MediaTooLarge):
        client.download(CDN, max_bytes=5000)
    assert len(sent) < 100  # it did not read the rest


def test_download_refuses_a_declared_size_over_the_limit(
    api: respx.MockRouter, client: WhatsAppClient
):
    api.get(CDN).respond(200, content=b"x" * 50)
    with pytest.raises(MediaTooLarge) as caught:
        client.download(CDN, max_bytes=10)
    assert caught.value.size == 50


@pytest.mark.parametrize("status", [401, 404])
def test_an_expired_url_is_reported_as_such_and_not_retried(
    api: respx.MockRouter, client: WhatsAppClient, status: int
):
    route = api.get(CDN).respond(status)
    with pytest.raises(MediaUrlExpired):
        client.download(CDN, max_bytes=100)
    assert route.call_count == 1


def test_download_retries_a_timeout(api: respx.MockRouter, client: WhatsAppClient):
    route = api.get(CDN)
    route.side_effect = [httpx.ReadTimeout("slow"), httpx.Response(200, content=b"ok")]
    assert client.download(CDN, max_bytes=100) == b"ok"
