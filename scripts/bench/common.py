"""Small pieces every section uses: the global deadline, waiting, percentiles, posting."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from scripts.bench.stack import ROOT, Stack

VOCABULARY = re.split(
    r"\s+",
    """hello I would like to know whether the blue running shoes in size 42 are still in stock
    and if you ship them to Lisbon by Friday also can I return them when they do not fit and
    how long does a refund take please tell me about the trail model too""",
)


class TimedOut(Exception):
    """The run's global deadline passed, or a section stopped making progress."""


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def check(self, what: str) -> None:
        if self.remaining() <= 0:
            raise TimedOut(f"global timeout while {what}")


def wait_until(
    done: Callable[[], bool],
    deadline: Deadline,
    *,
    what: str,
    progress: Callable[[], object] | None = None,
    stall: float = 120.0,
    interval: float = 0.05,
) -> None:
    """Poll `done`; give up at the deadline, or when `progress` has not changed for `stall`
    seconds (a stuck run ends with a report instead of hanging)."""
    last, changed = progress() if progress else None, time.monotonic()
    while not done():
        deadline.check(what)
        if progress is not None:
            now = progress()
            if now != last:
                last, changed = now, time.monotonic()
            elif time.monotonic() - changed > stall:
                raise TimedOut(f"no progress for {stall:.0f}s while {what} (at {now})")
        time.sleep(interval)


def percentiles(values: Iterable[float], scale: float = 1.0) -> dict[str, float | None]:
    ordered = sorted(v * scale for v in values)
    if not ordered:
        return {"n": 0, "p50": None, "p90": None, "p95": None, "p99": None, "max": None,
                "mean": None}  # fmt: skip

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "n": len(ordered),
        "p50": at(0.50),
        "p90": at(0.90),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": ordered[-1],
        "mean": sum(ordered) / len(ordered),
    }


def post_all(
    stack: Stack, url: str, payloads: list[list[dict[str, Any]]], threads: int = 8
) -> None:
    """Post several conversations' messages at once; each conversation's in its order."""
    with httpx.Client(timeout=30) as client:

        def one(messages: list[dict[str, Any]]) -> None:
            for payload in messages:
                stack.post(client, url, payload)

        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in [pool.submit(one, messages) for messages in payloads]:
                future.result()


def loadgen(mode: str, spec: dict[str, Any], deadline: Deadline, stack: Stack) -> dict[str, Any]:
    """Run the load generator in its own process; returns what it printed."""
    cmd = [sys.executable, "-m", "scripts.bench.loadgen", mode, json.dumps(spec)]
    try:
        done = subprocess.run(
            cmd,
            cwd=stack.data,
            env=stack.child_env(),
            capture_output=True,
            timeout=max(1.0, deadline.remaining()),
        )
    except subprocess.TimeoutExpired as exc:
        raise TimedOut(f"global timeout while the load generator ran ({mode})") from exc
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr.decode(errors='replace')}")
    return json.loads(done.stdout)


def text_of(words: int, seed: int) -> str:
    """A customer message of about `words` words, different every time (prompts and
    checkpoints are not one repeated line that compresses to nothing)."""
    rng = random.Random(seed)
    order = f"order {rng.randrange(10**7, 10**8)}"
    return " ".join([*rng.choices(VOCABULARY, k=max(0, words - 2)), order])


__all__ = ["ROOT", "Deadline", "TimedOut", "loadgen", "percentiles", "post_all", "wait_until"]


def run_stack(
    stack: Stack, soak: Callable[[], dict[str, Any]], say: Callable[[str], None]
) -> dict[str, Any]:
    """Start the stack, run the soak, close the stack whatever happens: the soak's result, or
    what broke (the report says it; a SIGTERM meanwhile is ignored while closing)."""
    import signal
    import traceback

    try:
        stack.start()
        return soak()
    except TimedOut as exc:
        return {"error": f"timed out: {exc}"}
    except Exception as exc:  # the report says what broke
        result = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        say(result["traceback"])
        return result
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.close()
