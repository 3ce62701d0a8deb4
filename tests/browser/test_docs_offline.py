"""/docs works with no way out to the internet: Swagger UI comes from this server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api(browser, servers: dict[str, str]) -> Iterator[str]:
    """The API alone (no worker: the docs need none) on a free port."""
    import uvicorn

    from api.app import create_app
    from persistence.embedded import free_port

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_the_api_docs_render_with_every_other_host_blocked(browser, api):
    context = browser.new_context()
    blocked: list[str] = []

    def only_this_machine(route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_this_machine)
    page = context.new_page()
    page.goto(f"{api}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/webhook" in paths and "/api/v1/takeover" in paths
    assert page.locator(".info .title").inner_text().startswith("Switchboard")
    page.screenshot(path=str(SCREENSHOTS / "api-docs-offline.png"))
    context.close()
    assert blocked == []  # it never even tried to load something from elsewhere
