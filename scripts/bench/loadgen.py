"""The load generator, run as its own process so it never shares a GIL with a server or a fake.

    python -m scripts.bench.loadgen ingest '<json spec>'   # signed webhooks to one URL
    python -m scripts.bench.loadgen mixed '<json spec>'    # open loop: messages and statuses
    python -m scripts.bench.loadgen soak '<json spec>'     # a plan of bursts per conversation

It prints one JSON object on stdout. The client is a minimal HTTP/1.1 keep-alive client on
asyncio streams (uvloop when available): httpx spends several times more CPU per request,
which on a 2-core machine would cap the trivial endpoint's figure and flatter the ratio.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from channels.simulators.webhooks import sign, status_payload, text_message_payload
from scripts.bench.common import percentiles


class Connection:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    def request_bytes(self, body: bytes, headers: dict[str, str]) -> bytes:
        head = [f"POST {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head += [f"Content-Length: {len(body)}", "", ""]
        return "\r\n".join(head).encode() + body

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        reused = self._writer is not None
        try:
            return await self._send(raw)
        except asyncio.IncompleteReadError as exc:
            # the server closed a keep-alive connection idle past its timeout (uvicorn: 5 s)
            # before reading this request: send it again on a new one, as HTTP clients do
            if not reused or exc.partial:
                raise
            return await self._send(raw)

    async def _send(self, raw: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None and self._writer is not None
        try:
            self._writer.write(raw)
            await self._writer.drain()
            head = await self._reader.readuntil(b"\r\n\r\n")
            status, length, close = _parse_head(head)
            body = await self._reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            self.close()
            raise
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" not in headers:
        raise OSError(f"response without Content-Length: {lines[0]}")
    return status, int(headers["content-length"]), headers.get("connection") == "close"


# --- ingest: fixed concurrency for a fixed time (or a fixed count) ----------------------

WAMID_SLOT = "wamid.SLOT"


class IngestBodies:
    """Signed text-message webhooks, each with a new wamid, cycling over the customers.
    Bodies come from one template per customer: making one costs a bytes replace and an
    HMAC, so the client stays cheap at any rate."""

    def __init__(self, spec: dict[str, Any]) -> None:
        conn = Connection(spec["url"])
        self.secret = spec["secret"]
        self.run = spec["run_id"]
        self.templates = []
        for c in range(spec["customers"]):
            wa_id = f"{spec['wa_prefix']}{c:07d}"
            payload = text_message_payload(
                phone_number_id=spec["phone_number_id"],
                wa_id=wa_id,
                wamid=WAMID_SLOT,
                text="Hello, is the blue running shoe in size 42 still in stock?",
            )
            self.templates.append(json.dumps(payload).encode())
        self.request_bytes = conn.request_bytes
        self.made = 0

    def next(self) -> bytes:
        i = self.made
        self.made += 1
        body = self.templates[i % len(self.templates)].replace(
            WAMID_SLOT.encode(), f"wamid.{self.run}.{i:09d}".encode()
        )
        return self.request_bytes(body, signed_headers(body, self.secret))


def signed_headers(body: bytes, secret: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, secret)}


async def ingest(spec: dict[str, Any]) -> dict[str, Any]:
    """`count` requests, or as many as `duration` seconds allow, from `concurrency` lanes."""
    bodies = IngestBodies(spec)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    count, duration = spec.get("count"), spec.get("duration")
    ends = time.perf_counter() + duration if duration else None

    def more() -> bool:
        return bodies.made < count if count is not None else time.perf_counter() < ends

    async def lane() -> None:
        nonlocal errors
        conn = Connection(spec["url"])
        while more():
            raw = bodies.next()
            started = time.perf_counter()
            try:
                status, _ = await conn.send(raw)
            except OSError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(spec["concurrency"])))
    seconds = time.perf_counter() - started
    return {
        "requests": bodies.made,
        "seconds": seconds,
        "rps": len(latencies) / seconds if seconds else None,
        "errors": errors,
        "statuses": statuses,
        "latency_s": percentiles(latencies),
    }


# --- mixed: an open loop of messages and their statuses at a fixed offered rate ----------

STATUS_KINDS = ("sent", "delivered", "read")


def mixed_bodies(spec: dict[str, Any]) -> list[tuple[str, bytes]]:
    """Every request of the run, in order: a customer's message, then the sent, delivered
    and read statuses of the reply `outbound[k]` (a wamid stored as an outbound message)."""
    bodies = IngestBodies({**spec, "run_id": f"{spec['run_id']}m"})
    requests = []
    for k, (wa_id, wamid) in enumerate(spec["outbound"]):
        requests.append(("message", bodies.next()))
        for status in STATUS_KINDS:
            payload = status_payload(
                phone_number_id=spec["phone_number_id"], wamid=wamid, status=status,
                recipient_id=wa_id, timestamp=1_700_000_000 + k,
            )  # fmt: skip
            body = json.dumps(payload).encode()
            requests.append(
                (status, bodies.request_bytes(body, signed_headers(body, spec["secret"])))
            )
    return requests


async def mixed(spec: dict[str, Any]) -> dict[str, Any]:
    """Open loop: request i leaves at start + i / rate whatever the earlier ones are doing
    (a connection of its own when none is idle), and its latency counts from that planned
    moment, so a server falling behind shows in the figures rather than slowing the load."""
    requests = mixed_bodies(spec)
    rate = spec["rate"]
    idle: list[Connection] = []
    latencies: dict[str, list[float]] = {}
    statuses: dict[str, int] = {}
    errors = 0
    done_at = 0.0

    async def one(planned: float, kind: str, raw: bytes) -> None:
        nonlocal errors, done_at
        conn = idle.pop() if idle else Connection(spec["url"])
        try:
            status, _ = await conn.send(raw)
        except OSError:
            errors += 1
            return
        done_at = time.perf_counter()
        latencies.setdefault(kind, []).append(done_at - planned)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        idle.append(conn)

    tasks = []
    started = time.perf_counter() + 0.05
    for i, (kind, raw) in enumerate(requests):
        planned = started + i / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(planned, kind, raw)))
    await asyncio.gather(*tasks)
    for conn in idle:
        conn.close()
    every = [v for values in latencies.values() for v in values]
    answered = sum(statuses.values())
    return {
        "requests": len(requests),
        "offered_rps": rate,
        "achieved_rps": answered / (done_at - started) if done_at > started else None,
        "connections": len(idle),
        "errors": errors,
        "statuses": statuses,
        "latency_s": percentiles(every),
        "latency_s_by_kind": {kind: percentiles(values) for kind, values in latencies.items()},
    }


# --- soak: bursts per conversation, a conversation's bursts strictly one after another ---

SEND_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError)


@dataclass
class SoakStats:
    posted: int = 0
    failed: list[str] = field(default_factory=list)  # wamids never accepted
    retries: int = 0
    retry_reasons: dict[str, int] = field(default_factory=dict)
    most_attempts: int = 0
    latencies: list[float] = field(default_factory=list)
    first_post: float | None = None
    last_post: float | None = None
    first_attempts: dict[str, float] = field(default_factory=dict)  # wamid -> time.time()


@dataclass
class Retry:
    """How a delivery that got no 2xx is tried again. By default (the benchmark) 5 attempts,
    0.2 s more between each; with `until` (the fault soak), as WhatsApp does: again and again
    with exponential backoff (`base`, doubling, at most `cap`) for up to `until` seconds."""

    attempts: int = 5
    until: float | None = None
    base: float = 0.25
    cap: float = 4.0

    def pause(self, attempt: int) -> float:
        if self.until is None:
            return 0.2 * (attempt + 1)
        return min(self.cap, self.base * 2**attempt)

    def more(self, attempt: int, first: float) -> bool:
        if self.until is None:
            return attempt + 1 < self.attempts
        return time.time() - first < self.until


class Pace:
    """At most `rate` messages a second over all lanes (0: as fast as they go); a burst's
    messages are posted back to back, the next burst waits for its slot."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next = time.monotonic()

    async def wait(self, messages: int) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(now, self.next)
        self.next = slot + messages * self.interval
        await asyncio.sleep(slot - now)


async def soak(spec: dict[str, Any]) -> dict[str, Any]:
    """Lanes take the next burst from a queue; a conversation's next burst is queued only
    when its previous one has been posted, so its messages arrive in WhatsApp order."""
    with open(spec["plan"], encoding="utf-8") as file:
        plan = json.load(file)
    conversations = plan["conversations"]
    queue: deque[tuple[int, int]] = deque((i, 0) for i in range(len(conversations)))
    stats = SoakStats()
    retry = Retry(**spec.get("retry", {}))
    pace = Pace(spec.get("rate", 0.0))
    timeout = spec.get("timeout")
    record = spec.get("record_first_attempts", False)

    async def attempt(conn: Connection, raw: bytes) -> str:
        """One delivery attempt: "ok", or why it got no 2xx."""
        try:
            status, _ = await asyncio.wait_for(conn.send(raw), timeout)
        except TimeoutError:
            conn.close()
            return "timeout"
        except ConnectionRefusedError:
            return "refused"
        except SEND_ERRORS:
            return "reset"
        return "ok" if 200 <= status < 300 else str(status)

    async def post(conn: Connection, wa_id: str, message: dict[str, Any]) -> None:
        payload = text_message_payload(
            phone_number_id=spec["phone_number_id"],
            wa_id=wa_id,
            text=message["text"],
            wamid=message["wamid"],
            timestamp=message["ts"],
        )
        body = json.dumps(payload).encode()
        raw = conn.request_bytes(body, signed_headers(body, spec["secret"]))
        first = time.time()
        stats.first_post = stats.first_post or first
        if record:
            stats.first_attempts[message["wamid"]] = first
        tries = 0
        while True:
            started = time.time()
            outcome = await attempt(conn, raw)
            tries += 1
            if outcome == "ok":
                stats.latencies.append(time.time() - started)
                stats.posted += 1
                stats.last_post = time.time()
                stats.most_attempts = max(stats.most_attempts, tries)
                return
            stats.retries += 1
            stats.retry_reasons[outcome] = stats.retry_reasons.get(outcome, 0) + 1
            if not retry.more(tries - 1, first):
                break
            await asyncio.sleep(retry.pause(tries - 1))  # WhatsApp retries too, with backoff
        stats.failed.append(message["wamid"])

    async def lane() -> None:
        conn = Connection(spec["url"])
        while queue:
            index, burst = queue.popleft()
            conversation = conversations[index]
            await pace.wait(len(conversation["bursts"][burst]))
            for message in conversation["bursts"][burst]:
                await post(conn, conversation["wa_id"], message)
            if burst + 1 < len(conversation["bursts"]):
                queue.append((index, burst + 1))
        conn.close()

    await asyncio.gather(*(lane() for _ in range(spec["concurrency"])))
    result = {
        "posted": stats.posted,
        "failed": stats.failed,
        "retries": stats.retries,
        "retry_reasons": stats.retry_reasons,
        "most_attempts": stats.most_attempts,
        "first_post": stats.first_post,
        "last_post": stats.last_post,
        "latency_s": percentiles(stats.latencies),
    }
    if record:
        result["first_attempts"] = stats.first_attempts
    return result


def main(argv: list[str]) -> None:
    mode, spec = argv[0], json.loads(argv[1])
    runner = {"ingest": ingest, "mixed": mixed, "soak": soak}[mode]
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as loop:
        result = loop.run(runner(spec))
    print(json.dumps({**result, "cpu_seconds": time.process_time()}))


if __name__ == "__main__":
    main(sys.argv[1:])
