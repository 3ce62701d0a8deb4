"""A tiny threaded HTTP server on 127.0.0.1 that the simulators are served on.

A simulator runs inside the test (or benchmark) process but is reached over real HTTP, so a
Celery worker in another process talks to it exactly as it would to the real service.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        return cls(
            status,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )


class DropConnection(BaseException):
    """Raise from `handle` to close the connection without any answer ("the request went
    through but the client never heard"). A BaseException, so no `except Exception` in a
    simulator turns it into an answer by mistake."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return  # the client went away (a killed worker, a timeout): nothing to report
        super().handle_error(request, client_address)


class LoopbackServer:
    """Subclasses implement `handle(request) -> Response`; start() binds an ephemeral port."""

    def __init__(self) -> None:
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.lock = threading.RLock()

    def handle(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._httpd = _Server(("127.0.0.1", 0), _handler_for(self))
        # A short poll interval: shutdown() waits up to one interval, and tests stop many servers.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def wait_for(self, records: list[Any], count: int, timeout: float = 10.0) -> list[Any]:
        """A copy of `records` (a list this server appends to) once it holds `count` items."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                received = list(records)
            if len(received) >= count:
                return received
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"expected {count} sent messages within {timeout}s, got "
                    f"{len(received)}: {received!r}"
                )
            time.sleep(0.02)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_for(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body are two writes: with Nagle's algorithm the body would wait for
        # the client's delayed ACK of the headers (up to 40 ms on Linux), a stall no real
        # API adds
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            try:
                response = server.handle(request)
            except DropConnection:
                self.close_connection = True
                return
            except Exception as exc:  # a bug in a simulator must be visible, not a hang
                response = Response.json({"simulator_error": repr(exc)}, status=500)
            try:
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                # the client gave up on a delayed answer; nothing left to say
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler
