"""Finding 2 of issue #22, replayed in Chromium: a signed-in operator opens a library file's
signed link; the file is an HTML page whose script reads the console's CSRF token and takes
the conversation over. Uploading it is refused, and one already stored never runs."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from persistence.db import session_scope
from persistence.models import Conversation, MediaAsset
from persistence.storage import get_storage
from services.media.send import signed_link
from services.merchants.operator import create_operator
from tests.browser.conftest import browser, serving  # noqa: F401 - browser: the fixture
from tests.factories import make_conversation

pytestmark = pytest.mark.integration


def _attack(conversation_id: int) -> bytes:
    """Reads the console's CSRF token with the operator's cookie, then takes over."""
    return f"""<!DOCTYPE html><html><body><h1>Spring offer</h1><script>
fetch('/console/inbox?pwned=read').then(r => r.text()).then(page => {{
  const token = (page.match(/name="csrf_token" value="([^"]+)"/) || [])[1] || '';
  return fetch('/console/conversations/{conversation_id}/takeover?pwned=takeover',
               {{method: 'POST', body: new URLSearchParams({{csrf_token: token}})}});
}});
</script></body></html>""".encode()


@pytest.fixture
def console(clean, merchant, monkeypatch) -> Iterator[str]:
    """The API alone (no worker needed) on a free port, signing library links."""
    from persistence.embedded import free_port
    from settings import get_settings

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("MEDIA_LINK_BASE_URL", base)
    monkeypatch.setenv("MEDIA_LINK_SECRET", "test-media-link-secret")
    get_settings.cache_clear()
    try:
        with serving(port):
            yield base
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def _signed_in(browser, base: str):  # noqa: F811 - the fixture's value
    with session_scope() as session:
        _, token = create_operator(session, name="Olga", is_admin=True)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/console")
    page.fill("#token", token)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/console/inbox"))
    return context, page


def _plant(merchant: dict, data: bytes) -> str:
    """An HTML file stored before the library checked documents; its signed link."""
    storage_key = f"library/{merchant['id']}/offer/offer.html"
    get_storage().put(storage_key, data, "text/html")
    with session_scope() as session:
        asset = MediaAsset(
            merchant_id=merchant["id"], key="offer", kind="document", filename="offer.html",
            mime_type="text/html", size=len(data), sha256=hashlib.sha256(data).hexdigest(),
            storage_key=storage_key,
        )  # fmt: skip
        session.add(asset)
        session.flush()
        link = signed_link(asset)
    assert link is not None
    return link


def _conversation(merchant: dict) -> int:
    with session_scope() as session:
        return make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"]
        ).id


def _mode(conversation_id: int) -> str:
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        return str(conversation.mode)


def test_the_page_cannot_be_uploaded_from_the_console(browser, console, merchant):  # noqa: F811
    from playwright.sync_api import expect

    context, page = _signed_in(browser, console)
    page.goto(f"{console}/console/media")
    page.fill("input[name=key]", "offer")
    page.select_option("select[name=kind]", "document")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "offer.html", "mimeType": "text/html", "buffer": _attack(1)}],
    )
    page.click("form.upload button[type=submit]")
    expect(page.locator("body")).to_contain_text("does not accept text/html")
    expect(page.locator("li.asset")).to_have_count(0)
    context.close()


def test_a_stored_page_opened_by_an_operator_runs_nothing(browser, console, merchant):  # noqa: F811
    from playwright.sync_api import Error as PlaywrightError

    conversation_id = _conversation(merchant)
    link = _plant(merchant, _attack(conversation_id))
    assert urlsplit(link).netloc == urlsplit(console).netloc  # served from the console's origin
    context, page = _signed_in(browser, console)
    seen: list[str] = []
    context.on("request", lambda request: seen.append(request.url))
    # Playwright's goto fails with "Download is starting": the link is never a page
    with page.expect_download() as download, contextlib.suppress(PlaywrightError):
        page.goto(link)
    assert download.value.suggested_filename == "offer.html"
    page.goto(f"{console}/console/inbox")  # the browser is done with the link
    assert not [url for url in seen if "pwned" in url]
    assert _mode(conversation_id) == "ai"
    context.close()
