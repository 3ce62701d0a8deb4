"""Finding 4 of issue #22: an inbound media download went to whatever `url` the media lookup
answered, over plain http too, with `Authorization: Bearer <access token>`; and the media
id went into the lookup's URL path unencoded.

The attack: the lookup answers a URL on another server (here a second loopback server that
records what reaches it). The token must never arrive there; the message is flagged as a
media failure, logged and counted, and nothing crashes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from channels.errors import InvalidRequest
from channels.simulators.http import LoopbackServer, Request, Response
from channels.whatsapp import WhatsAppClient, media_url_allowed
from services.media.flows import fetch_inbound_media
from tests.conftest import ACCESS_TOKEN
from tests.helpers import messages_in_db
from tests.integration.test_media_fetch import receive_image, scheduled, tiny_jpeg  # noqa: F401 - scheduled: the fixture
from tests.integration.test_observability import _samples, _value

pytestmark = pytest.mark.integration
REFUSED = {"outcome": "refused_host"}


class Collector(LoopbackServer):
    """Someone else's server: records every request, answers with a file."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Request] = []

    def handle(self, request: Request) -> Response:
        self.seen.append(request)
        return Response(200, tiny_jpeg(), {"Content-Type": "image/jpeg"})


@pytest.fixture
def foreign() -> Iterator[Collector]:
    with Collector() as server:
        yield server


@pytest.fixture
def lookup_points_at(fakes) -> Iterator[Callable[[str], None]]:
    """The Graph API's media lookup hands out download URLs on `base` from now on."""
    graph = fakes["graph"]
    yield lambda base: setattr(graph, "public_url", base)
    graph.public_url = None


def _fetched(client, merchant, fakes) -> tuple[str, object]:
    message_id = receive_image(client, merchant, fakes, tiny_jpeg())
    outcome = fetch_inbound_media(message_id)  # the worker's job, run here
    return outcome, messages_in_db(id=message_id)[0]


@pytest.mark.usefixtures("scheduled")
def test_a_lookup_pointing_at_another_server_gets_no_token(
    client,
    merchant,
    fakes,
    foreign,
    lookup_points_at,
):
    before = _samples(client)
    lookup_points_at(foreign.url)  # 127.0.0.1 on another port: another origin
    outcome, message = _fetched(client, merchant, fakes)
    assert foreign.seen == []  # not a single request, so not the token either
    assert outcome == "failed" and message.media_status == "failed"
    assert "not an allowed media host" in message.media_error
    assert _value(_samples(client), "switchboard_media_fetches_total", **REFUSED) == (
        _value(before, "switchboard_media_fetches_total", **REFUSED) + 1
    )


@pytest.mark.usefixtures("scheduled")
def test_plain_http_to_an_allowed_host_gets_no_token(
    client,
    merchant,
    fakes,
    foreign,
    lookup_points_at,
    configure,
):
    host = foreign.url.removeprefix("http://")
    configure(WHATSAPP_MEDIA_HOSTS=host)  # allowed over https only, as Meta's hosts are
    lookup_points_at(foreign.url)  # ... but the lookup says http://
    outcome, message = _fetched(client, merchant, fakes)
    assert foreign.seen == []
    assert outcome == "failed" and "not an allowed media host" in message.media_error


@pytest.mark.usefixtures("scheduled")
def test_the_simulator_allowed_explicitly_still_works(client, merchant, fakes):
    outcome, message = _fetched(client, merchant, fakes)
    assert outcome == "stored" and message.media_error is None
    [download] = fakes["graph"].media_requests("download")
    assert download.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", True),
        ("https://mmg.whatsapp.net/v/t62/abc.enc", True),
        ("https://scontent.xx.fbcdn.net/v/t1/abc.jpg", True),
        ("http://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", False),
        ("https://lookaside.fbsbx.com:8443/x", False),
        ("https://lookaside.fbsbx.com.evil.example/x", False),
        ("https://evilfbcdn.net/x", False),
        ("https://fbcdn.net.evil.example/x", False),
        ("https://user@lookaside.fbsbx.com/x", False),
        ("https://attacker.example/x", False),
        ("file:///etc/passwd", False),
        ("http://127.0.0.1:9/x", False),
    ],
)
def test_only_https_on_metas_media_hosts_by_default(monkeypatch, url, allowed):
    monkeypatch.delenv("WHATSAPP_MEDIA_HOSTS", raising=False)  # the tests' own adds the simulator
    from settings import Settings

    hosts = Settings(_env_file=None).media_download_hosts  # type: ignore[call-arg]
    assert media_url_allowed(url, hosts) is allowed


def test_plain_http_can_be_allowed_only_to_this_machine():
    from pydantic import ValidationError

    from settings import Settings

    with pytest.raises(ValidationError):
        Settings(_env_file=None, whatsapp_media_hosts="http://cdn.example.com")  # type: ignore[call-arg]
    local = Settings(_env_file=None, whatsapp_media_hosts="http://127.0.0.1:8080")  # type: ignore[call-arg]
    assert media_url_allowed("http://127.0.0.1:8080/media", local.media_download_hosts)
    assert not media_url_allowed("http://127.0.0.1:8081/media", local.media_download_hosts)


def test_a_media_id_cannot_walk_the_graph_api_path():
    """A forged id such as "../<number>/messages" stays one path segment."""
    root = "https://graph.test/v23.0"
    with respx.mock(assert_all_called=False) as api:
        route = api.get(url__startswith=root).respond(
            json={"error": {"code": 100}}, status_code=400
        )
        with (
            WhatsAppClient(
                api_root=root, access_token="t", phone_number_id="1", max_attempts=1
            ) as c,
            pytest.raises(InvalidRequest),  # what matters is the URL it asked
        ):
            c.media_info("../1065/messages?x=")
        sent: httpx.Request = route.calls[0].request
    assert sent.url.raw_path.decode().startswith("/v23.0/..%2F1065%2Fmessages%3Fx%3D?")
