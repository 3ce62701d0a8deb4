"""The production layout on this machine's own servers, soaked with a worker host lost.

External PostgreSQL (a fresh database), Redis (one database number, the buffer), RabbitMQ
(a virtual host of its own) as Celery's broker; 2 API processes (uvicorn, one process each,
`api.app:create_served_app`) each taking half the conversations' webhooks; 3 separate
`celery worker` processes, named as hosts would be; beat once. Mid-run one worker's whole
process group gets SIGKILL, as a host that dies: RabbitMQ hands its unacknowledged tasks
(running turns, burst flushes it held for their countdown) to the others. The ledger then
counts lost, duplicated and out-of-order replies (scripts/bench/ledger.py) and overlapping
turns (two turns of one conversation running at once).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import psutil

from scripts.bench import db, fault_soak, ledger, soak
from scripts.bench.common import Deadline, wait_until
from scripts.bench.fault import Injection, open_turns_now
from scripts.bench.stack import APP_SECRET, CELERY, QUEUES, Stack, terminate
from scripts.bench.status_echo import StatusEcho

Say = Callable[[str], None]


@dataclass(frozen=True)
class Layout:
    apis: int
    workers: int
    concurrency: int  # pool processes per worker
    messages: int
    conversations: int
    rate: float
    kill_at: float  # fraction of the messages posted when a worker is killed (0: never)
    stall: float


class CpuMeter:
    """CPU seconds of each role's process trees, sampled every second so a killed worker's
    figure is what it had used when it died."""

    def __init__(self, roles: dict[str, subprocess.Popen[bytes]]) -> None:
        self.roles = roles
        self.seen: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu", daemon=True)

    def start(self) -> CpuMeter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()

    def sample(self) -> None:
        for role, process in self.roles.items():
            with suppress(psutil.Error):
                main = psutil.Process(process.pid)
                for p in [main, *main.children(recursive=True)]:
                    with suppress(psutil.Error):
                        times = p.cpu_times()
                        self.seen[(role, p.pid)] = times.user + times.system

    def by_role(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for (role, _), seconds in self.seen.items():
            out[role] = out.get(role, 0.0) + seconds
        return out

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()


def run(stack: Stack, layout: Layout, deadline: Deadline, say: Say) -> dict[str, Any]:
    served = [stack.serve(f"api-{i + 1}", "api.app:create_served_app") for i in range(layout.apis)]
    urls = [url for url, _ in served]
    apis = {f"api-{i + 1}": process for i, (_, process) in enumerate(served)}
    workers = {f"worker-{i + 1}": _worker(stack, i + 1, layout) for i in range(layout.workers)}
    beat = stack.start_beat()
    _wait_workers(layout.workers, deadline)
    say(f"{layout.apis} API processes at {', '.join(urls)}; {layout.workers} workers answer")
    stack.reset_fakes()
    stack.gemini.default = soak.acknowledge(stack)
    phone = stack.add_phone("scaleout")
    the_plan = soak.plan(layout.messages, layout.conversations)
    meter = CpuMeter({**apis, **workers, "beat": beat})
    meter.sample()
    cpu_before = meter.by_role()  # start-up work (imports, forks) is not the soak's
    meter.start()
    echo = StatusEcho(stack, urls[0], phone["phone_number_id"]).start()
    injections: list[Injection] = []
    killer = threading.Thread(
        target=_kill_one,
        args=(workers["worker-2" if layout.workers > 1 else "worker-1"], layout, phone,
              injections, say),
        daemon=True,
    )  # fmt: skip
    try:
        if layout.kill_at > 0:
            killer.start()
        posted = _post_split(stack, urls, phone, the_plan, layout, deadline)
        say(f"posted {posted['posted']} messages; waiting for every reply")
        watch = _Watch(stack, phone["id"], say)
        plan = _StallOnly(layout.stall)
        timed_out = fault_soak._wait_answered(
            stack,
            phone["id"],
            posted["posted"],
            echo,
            plan,
            deadline,
            watch,  # type: ignore[arg-type]
        )
        time.sleep(3)  # a late resend or redone turn would arrive now
        killer.join(timeout=1)
        result = ledger.analyse(stack, phone["id"], the_plan, posted, injections)
    finally:
        echo.stop()
        meter.stop()
        for process in [*apis.values(), *workers.values(), beat]:
            terminate(process)
    cpu = {k: v - cpu_before.get(k, 0.0) for k, v in meter.by_role().items()}
    finished = max(stack.graph.sent_at, default=time.time())
    seconds = finished - (posted.get("first_post") or finished)
    return {
        **result,
        "timed_out": timed_out,
        "overlapping_turns": overlapping_turns(db.turns(phone["id"])),
        "layout": vars(layout),
        "messages": layout.messages,
        "conversations": layout.conversations,
        "posting": {k: v for k, v in posted.items() if k != "first_attempts"},
        "seconds": seconds,
        "turns_per_second": result["turns"] / seconds if seconds > 0 else None,
        "injections": [vars(i) for i in injections],
        "cpu_seconds": cpu,
    }


def overlapping_turns(turns: list[dict[str, Any]]) -> int:
    """Pairs of turns of one conversation whose [started, finished] intervals intersect."""
    by_conversation: dict[int, list[dict[str, Any]]] = {}
    for turn in turns:
        if turn["started_at"] is not None:
            by_conversation.setdefault(turn["conversation_id"], []).append(turn)
    overlaps = 0
    for items in by_conversation.values():
        items.sort(key=lambda t: t["started_at"])
        for before, after in zip(items, items[1:], strict=False):
            if before["finished_at"] is None or after["started_at"] < before["finished_at"]:
                overlaps += 1
    return overlaps


def _worker(stack: Stack, index: int, layout: Layout) -> subprocess.Popen[bytes]:
    cmd = [
        *CELERY, "worker", "-Q", QUEUES, "--concurrency", str(layout.concurrency),
        "--loglevel", "INFO", "-n", f"worker{index}@host{index}",
    ]  # fmt: skip
    return stack.spawn(f"worker-{index}", cmd)


def _wait_workers(count: int, deadline: Deadline) -> None:
    from tasks import app

    def answered() -> bool:
        return len(app.control.ping(timeout=1.0) or []) >= count

    wait_until(answered, deadline, what=f"{count} workers answering", interval=0.5)


def _kill_one(
    worker: subprocess.Popen[bytes],
    layout: Layout,
    phone: dict[str, Any],
    injections: list[Injection],
    say: Say,
) -> None:
    """SIGKILL the worker's process group once kill_at of the messages are in and turns run."""
    target = int(layout.messages * layout.kill_at)
    while db.progress(phone["id"])["inbound"] < target:
        time.sleep(0.2)
    for _ in range(50):  # strike while turns are open, so some die mid-turn
        if open_turns_now():
            break
        time.sleep(0.1)
    open_turns = open_turns_now()
    pids = [worker.pid]
    with suppress(psutil.Error):
        pids += [c.pid for c in psutil.Process(worker.pid).children(recursive=True)]
    at = time.time()
    with suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    injections.append(
        Injection(
            "worker-kill",
            at,
            time.time(),
            detail={"processes": len(pids), "open_turns": open_turns},
        )
    )
    say(f"killed {len(pids)} processes of a worker (its host is gone); {open_turns} turns open")


def _post_split(
    stack: Stack,
    urls: list[str],
    phone: dict[str, Any],
    the_plan: dict[str, Any],
    layout: Layout,
    deadline: Deadline,
) -> dict[str, Any]:
    """One load generator per API, each with its share of the conversations."""
    processes = []
    for i, url in enumerate(urls):
        share = {"conversations": the_plan["conversations"][i :: len(urls)]}
        plan_path = stack.data / f"scaleout-plan-{i}.json"
        plan_path.write_text(json.dumps(share))
        spec = {
            "url": f"{url}/webhook", "plan": str(plan_path), "concurrency": 8,
            "phone_number_id": phone["phone_number_id"], "secret": APP_SECRET,
            "rate": layout.rate / len(urls), "timeout": 10.0,
            "retry": {"until": max(1.0, deadline.remaining() - 60)},
            "record_first_attempts": True,
        }  # fmt: skip
        out = (stack.data / f"loadgen-{i}.json").open("wb")
        err = (stack.data / f"loadgen-{i}.log").open("ab")
        cmd = [sys.executable, "-m", "scripts.bench.loadgen", "soak", json.dumps(spec)]
        processes.append((subprocess.Popen(cmd, cwd=stack.data, env=stack.child_env(),
                                           stdout=out, stderr=err), out, err, i))  # fmt: skip
    results = []
    for process, out, err, i in processes:
        process.wait(timeout=max(1.0, deadline.remaining()))
        out.close()
        err.close()
        if process.returncode != 0:
            log = (stack.data / f"loadgen-{i}.log").read_text()
            raise RuntimeError(f"load generator {i} failed:\n{log}")
        results.append(json.loads((stack.data / f"loadgen-{i}.json").read_text()))
    return _merge(results)


def _merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    reasons: dict[str, int] = {}
    for r in results:
        for k, n in r["retry_reasons"].items():
            reasons[k] = reasons.get(k, 0) + n
    firsts = [r["first_post"] for r in results if r["first_post"]]
    lasts = [r["last_post"] for r in results if r["last_post"]]
    return {
        "posted": sum(r["posted"] for r in results),
        "failed": [w for r in results for w in r["failed"]],
        "retries": sum(r["retries"] for r in results),
        "retry_reasons": reasons,
        "most_attempts": max(r["most_attempts"] for r in results),
        "first_post": min(firsts, default=None),
        "last_post": max(lasts, default=None),
        "first_attempts": {k: v for r in results for k, v in r["first_attempts"].items()},
    }


@dataclass(frozen=True)
class _StallOnly:
    stall: float


class _Watch:
    def __init__(self, stack: Stack, phone: int, say: Say, every: float = 15.0) -> None:
        self.stack, self.phone, self.say, self.every = stack, phone, say, every
        self.last = time.monotonic()

    def tick(self, what: str) -> None:
        if time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self.say(f"{what}: {db.progress(self.phone)}; replies {len(self.stack.graph.sent)}")
