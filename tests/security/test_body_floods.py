"""Unauthenticated memory exhaustion: big bodies are refused before anything holds them.

Each attack goes to a real server process (tests/security/conftest.py: run_server.py), as
an attacker would send it, and watches that process's memory (RSS, sampled while the
body streams in, and Linux's own peak figure where it has one).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.integration

MB = 1024 * 1024
FLOOD_BYTES = 150 * MB
MAX_GROWTH = 50 * MB  # the refused body is 150 MB; holding it would show three times over
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class PeakMemory:
    """The process's highest RSS while the block runs, above what it was before."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.status = Path(f"/proc/{pid}/status")
        self.kernel_peak = False
        self.peak = 0
        self._done = threading.Event()

    def __enter__(self) -> PeakMemory:
        self.before = self.process.memory_info().rss
        try:  # Linux: reset VmHWM, the kernel's own peak RSS (else: the samples alone)
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
            self.kernel_peak = True
        except OSError:
            self.kernel_peak = False
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.002):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        if self.kernel_peak:
            line = next(x for x in self.status.read_text().splitlines() if x.startswith("VmHWM"))
            self.peak = max(self.peak, int(line.split()[1]) * 1024)

    @property
    def growth(self) -> int:
        return self.peak - self.before


def _chunks(prefix: bytes, total: int = FLOOD_BYTES) -> Iterator[bytes]:
    """A body of `total` bytes, without a length: httpx sends it chunked."""
    yield prefix
    block = b"x" * (256 * 1024)
    for _ in range(total // len(block)):
        yield block


def _flood(api_server, path: str, prefix: bytes, headers: dict[str, str]) -> httpx.Response:
    with PeakMemory(api_server.process.pid) as memory:
        response = httpx.post(
            f"{api_server.url}{path}", content=_chunks(prefix), headers=headers, timeout=120
        )
    print(f"{path}: {response.status_code}, peak RSS +{memory.growth / MB:.1f} MB")
    assert memory.growth < MAX_GROWTH, f"the API grew {memory.growth / MB:.0f} MB"
    return response


def test_a_chunked_flood_to_the_webhook_is_cut_off_at_its_limit(api_server, clean):
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64}
    response = _flood(api_server, "/webhook", b'{"object": "', headers)
    assert response.status_code == 413
    assert "at most 1000000 bytes" in response.json()["detail"]


def test_a_chunked_flood_to_the_api_without_a_token_is_refused(api_server, clean):
    response = _flood(
        api_server, "/api/v1/documents", b'{"title": "', {"Content-Type": "application/json"}
    )
    assert response.status_code == 413  # before authentication, before JSON
    assert "at most 1000000 bytes" in response.json()["detail"]


def test_a_chunked_upload_without_a_token_is_refused(api_server, clean):
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    prefix = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
    response = _flood(api_server, "/api/v1/media", prefix, headers)
    assert response.status_code == 401


def _answer_to_headers(api_server, path: str, headers: dict[str, str], declared: int) -> bytes:
    """Send only the request head and the body's first bytes of a `declared`-byte body,
    then wait: a server that reads the body first would never answer."""
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {declared}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", api_server.port), timeout=20) as conn:
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + b"x" * 65536)
        answer = b""
        while not answer.endswith(b"}"):  # the head, then the JSON reason
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def test_an_upload_without_a_token_is_refused_before_its_body_is_read(api_server, clean):
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    answer = _answer_to_headers(api_server, "/api/v1/media", headers, 100 * MB)
    assert answer.startswith(b"HTTP/1.1 401 ")


@pytest.mark.parametrize("path", ["/webhook", "/api/v1/documents"])
def test_a_declared_length_over_the_limit_is_refused_before_the_body(api_server, clean, path):
    headers = {"Content-Type": "application/json", **ADMIN}
    answer = _answer_to_headers(api_server, path, headers, FLOOD_BYTES)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"at most 1000000 bytes" in answer


def test_only_a_known_caller_may_upload_more_than_the_common_limit(client, merchant, configure):
    configure(REQUEST_MAX_BODY_BYTES=10_000)
    upload = {
        "data": {"merchant_id": str(merchant["id"]), "key": "catalog", "kind": "document"},
        "files": {"file": ("catalog.pdf", b"%PDF-1.4 " + b"x" * 50_000, "application/pdf")},
    }
    assert client.post("/api/v1/media", **upload).status_code == 401
    created = client.post("/api/v1/media", headers=ADMIN, **upload)
    assert created.status_code == 201, created.text
    document = {"merchant_id": merchant["id"], "title": "Big", "content": "x" * 20_000}
    refused = client.post("/api/v1/documents", headers=ADMIN, json=document)
    assert refused.status_code == 413
    assert refused.json()["detail"] == (
        "request body too large: this route accepts at most 10000 bytes"
    )
