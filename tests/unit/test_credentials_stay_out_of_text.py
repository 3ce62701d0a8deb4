"""Credentials never reach a log line or an error message: the log processor and the
Graph API client's errors."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import httpx
import pytest
import structlog

from channels.errors import TransientError, WhatsAppError
from channels.whatsapp import WhatsAppClient
from channels.whatsapp_messages import Recipient
from observability.logs import configure, get_logger

TOKEN = "EAAG-unit-logs-9d2e71"
ROOT = "https://graph.test/v23.0"


@pytest.fixture
def json_lines() -> Iterator[Callable[[], list[str]]]:
    """The JSON lines our configured logging writes (to a buffer instead of stderr)."""
    root = logging.getLogger()
    handlers, level, saved = root.handlers[:], root.level, structlog.get_config()
    configure("DEBUG", "json")
    structlog.configure(cache_logger_on_first_use=False)  # later tests get their own again
    output = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(output)
    yield lambda: output.getvalue().splitlines()
    root.handlers, root.level = handlers, level
    structlog.configure(**saved)


def test_secret_keys_are_redacted_at_any_depth(json_lines):
    log = get_logger("test.secrets")
    log.info(
        "graph.call",
        access_token=TOKEN, auth_token=TOKEN, password=TOKEN, secret=TOKEN,
        headers={"Authorization": f"Bearer {TOKEN}", "Accept": "json"},
        attempts=[{"token": TOKEN}], note=f"sent with Authorization: Bearer {TOKEN}",
    )  # fmt: skip
    logging.getLogger("httpx").warning("GET %s?access_token=%s", ROOT, TOKEN)
    lines = json_lines()
    assert len(lines) == 2 and all(TOKEN not in line for line in lines)
    event = json.loads(lines[0])
    assert event["access_token"] == event["auth_token"] == "[redacted]"
    assert event["headers"] == {"Authorization": "[redacted]", "Accept": "json"}


def test_a_logged_traceback_carries_no_bearer_token(json_lines):
    try:
        raise RuntimeError(f"request failed: headers={{'Authorization': 'Bearer {TOKEN}'}}")
    except RuntimeError:
        get_logger("test.secrets").exception("graph.crashed")
    lines = json_lines()
    assert lines and "RuntimeError" in lines[0] and TOKEN not in "".join(lines)


def test_secrets_in_text_are_redacted_in_any_case(json_lines):
    get_logger("test.secrets").info(
        "graph.call", note=f"sent with authorization: BeArEr {TOKEN}",
        url=f"https://example.test/media?id=7&sig={TOKEN}", plain="no secret here",
    )  # fmt: skip
    (line,) = json_lines()
    event = json.loads(line)
    assert TOKEN not in line
    assert event["note"] == "sent with authorization: BeArEr [redacted]"
    assert event["url"] == "https://example.test/media?id=7&sig=[redacted]"
    assert event["plain"] == "no secret here"


def test_a_logged_stack_carries_no_bearer_token(json_lines):
    get_logger("test.secrets").info("graph.stack", stack_info=True)  # Bearer EAAG-unit-logs-9d2e71
    (line,) = json_lines()
    assert "graph.stack" in json.loads(line)["stack"] and TOKEN not in line


def _client(handler) -> WhatsAppClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return WhatsAppClient(
        api_root=ROOT, access_token=TOKEN, phone_number_id="1065", http=http,
        max_attempts=2, backoff_base=0.001,
    )  # fmt: skip


def test_a_graph_error_quoting_the_token_is_raised_and_logged_without_it(json_lines):
    def echoing(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"  # the plaintext goes out
        error = {"message": f"Invalid OAuth access token: {TOKEN}", "type": "OAuthException",
                 "code": 190, "error_data": {"details": f"token {TOKEN} expired"}}  # fmt: skip
        return httpx.Response(401, json={"error": error})

    with pytest.raises(WhatsAppError) as caught:
        _client(echoing).send_text(Recipient(wa_id="155512"), "hi")
    error = caught.value
    assert error.code == 190 and "Invalid OAuth access token" in str(error)
    assert TOKEN not in str(error) and TOKEN not in repr(error.args) and TOKEN not in error.title
    assert all(TOKEN not in line for line in json_lines())


def test_a_transport_error_quoting_the_token_is_raised_without_it(json_lines):
    def failing(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"proxy refused {request.url} for Bearer {TOKEN}")

    with pytest.raises(TransientError) as caught:
        _client(failing).mark_read("wamid.X")
    assert "proxy refused" in str(caught.value) and TOKEN not in str(caught.value)
    assert all(TOKEN not in line for line in json_lines())
