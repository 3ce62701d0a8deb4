"""Browser tests: Debian's Chromium driven by Playwright against the real stack (API in a
uvicorn thread, Celery worker and beat, embedded PostgreSQL and Redis) with the WhatsApp
sandbox on and a scripted fake LLM. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT, Stack, wipe

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip("no Chromium at /usr/bin/chromium (CI installs Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def live_server(
    browser, servers: dict[str, str], fakes: dict, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The whole system on a free port, its sends going to the sandbox's fake Graph API."""
    with live_system(servers, fakes, tmp_path_factory.mktemp("browser-stack")) as base:
        yield base


@contextmanager
def live_system(servers: dict[str, str], fakes: dict, log_dir: Path) -> Iterator[str]:
    """The API on a free port with the sandbox on, and a worker and beat whose sends go to
    the sandbox's fake Graph API; its base URL. Also for tests that need no browser."""
    from persistence.embedded import free_port
    from settings import get_settings

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    overrides = {"SANDBOX_ENABLED": "true", "WHATSAPP_API_BASE_URL": f"{base}/sandbox/graph"}
    env = pytest.MonkeyPatch()
    for key, value in overrides.items():
        env.setenv(key, value)
    get_settings.cache_clear()
    wipe(servers)
    for fake in fakes.values():
        fake.reset()
    stack = Stack(servers, log_dir).start(**overrides)
    try:
        with serving(port):
            yield base
    finally:
        stack.stop()
        env.undo()
        get_settings.cache_clear()


@contextmanager
def serving(port: int) -> Iterator[None]:
    """The API (create_app with the settings of now) in a uvicorn thread on `port`."""
    import uvicorn

    from api.app import create_app

    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        _wait_started(server)
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def signed_in_page(browser, live_server: str, token: str, *, height: int = 860):
    """A new page (its own context) signed in to the console with `token`, on the inbox."""
    import re

    page = browser.new_context(viewport={"width": 1280, "height": height}).new_page()
    page.goto(f"{live_server}/console")
    page.fill("#token", token)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/console/inbox"))
    return page


def take_over_in_console(browser, live_server: str, token: str, conversation_id: int):
    """A new page signed in with `token`, on the conversation, taken over; the page."""
    page = signed_in_page(browser, live_server, token)
    page.goto(f"{live_server}/console/conversations/{conversation_id}")
    page.click("button:has-text('Take over')")
    return page


def _wait_started(server, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def operator_token(live_server) -> str:
    from persistence.db import session_scope
    from services.merchants.operator import create_operator

    with session_scope() as session:
        _, token = create_operator(session, name="Olga")
    return token
