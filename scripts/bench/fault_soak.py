"""The soak under faults: the stack supervised, WhatsApp's deliveries and statuses, faults on
a schedule while the messages go in, then the ledger (scripts/bench/ledger.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scripts.bench import db, ledger, soak, supervisor, turns
from scripts.bench.common import Deadline, TimedOut, wait_until
from scripts.bench.fault import Injector
from scripts.bench.stack import APP_SECRET, Stack
from scripts.bench.status_echo import StatusEcho

Say = Callable[[str], None]


@dataclass(frozen=True)
class SoakPlan:
    messages: int
    conversations: int
    rate: float  # messages a second, 0: as fast as the webhook takes them
    concurrency: int
    request_timeout: float
    faults: tuple[str, ...]
    fault_every: float
    redis_down: float
    stall: float


def run(stack: Stack, plan: SoakPlan, deadline: Deadline, say: Say) -> dict[str, Any]:
    marker = stack.data / "api-failpoint"
    marker.touch()  # disarmed until an api-kill removes it
    api_env = {"FAILPOINTS": f"webhook.after_store=kill@{marker}"}
    from persistence.embedded import free_port

    port = free_port()
    url, stack.api = stack.serve("api", "api.app:create_app", port=port, **api_env)
    stack.start_workers()
    turns.warm_up(stack, url, conversations=3 * stack.options.workers, deadline=deadline)
    stack.reset_fakes()
    stack.gemini.default = soak.acknowledge(stack)
    phone = stack.add_phone("faults")
    the_plan = soak.plan(plan.messages, plan.conversations)
    (stack.data / "soak-plan.json").write_text(json.dumps(the_plan))
    log_offset = soak.log_size(stack.data / "worker.log")
    keeper = supervisor.for_stack(stack, api_port=port, api_env=api_env).start()
    echo = StatusEcho(stack, url, phone["phone_number_id"]).start()
    injector = Injector(stack, keeper, kinds=plan.faults, every=plan.fault_every,
                        marker=marker, redis_down=plan.redis_down, say=say)  # fmt: skip
    watch = Progress(stack, phone["id"], keeper, injector, say)
    try:
        started = time.time()
        injector.start()
        posted = _post(stack, url, phone, plan, deadline, watch)
        injector.stop()
        say(f"posting done in {time.time() - started:.0f} s; waiting for every reply")
        timed_out = _wait_answered(
            stack, phone["id"], posted["posted"], echo, plan, deadline, watch
        )
        time.sleep(3)  # anything late (a resend, a redone turn) would arrive now
        result = ledger.analyse(stack, phone["id"], the_plan, posted, injector.injections)
    finally:
        injector.stop()
        echo.stop()
        keeper.stop()
    finished = max(stack.graph.sent_at, default=time.time())
    seconds = finished - (posted.get("first_post") or started)
    return {
        **result,
        "timed_out": timed_out,
        "messages": plan.messages,
        "conversations": plan.conversations,
        "bursts": sum(len(c["bursts"]) for c in the_plan["conversations"]),
        "posting": {k: v for k, v in posted.items() if k != "first_attempts"},
        "seconds": seconds,
        "posting_seconds": (posted.get("last_post") or 0) - (posted.get("first_post") or 0),
        "messages_per_second": plan.messages / seconds if seconds > 0 else None,
        "turns_per_second": result["turns"] / seconds if seconds > 0 else None,
        "faults": injector.counts(),
        "faults_took_effect": sum(1 for i in injector.injections if i.took_effect),
        "injections": injector.records(),
        "restarts": keeper.summary(),
        "deaths": [vars(d) for d in keeper.deaths],
        "status_webhooks": {
            "statuses": echo.echoed,
            "webhooks": echo.webhooks,
            "retries": echo.retries,
        },  # fmt: skip
        "flush_tasks": soak.flush_outcomes(stack.data / "worker.log", log_offset),
        "worker_unrecoverable_errors": _count_in(stack.data / "worker.log", "Unrecoverable error"),
    }


class Progress:
    """A line every `every` seconds while the soak runs."""

    def __init__(self, stack: Stack, phone: int, keeper: Any, injector: Injector, say: Say,
                 every: float = 15.0) -> None:  # fmt: skip
        self.stack, self.phone, self.keeper, self.injector = stack, phone, keeper, injector
        self.say, self.every = say, every
        self.last = time.monotonic()

    def tick(self, what: str) -> None:
        if time.monotonic() - self.last < self.every:
            return
        self.last = time.monotonic()
        try:
            now = db.progress(self.phone)
        except Exception as exc:  # a progress line is not worth failing for
            now = {"error": type(exc).__name__}
        restarts = {role: sum(kinds.values()) for role, kinds in self.keeper.summary().items()}
        self.say(f"{what}: {now}; replies {len(self.stack.graph.sent)}; faults "
                 f"{self.injector.counts()}; restarts {restarts}")  # fmt: skip


def _post(
    stack: Stack, url: str, phone: dict, plan: SoakPlan, deadline: Deadline, watch: Progress
) -> dict[str, Any]:
    """The load generator, delivering as WhatsApp does: every message again until a 2xx."""
    spec = {
        "url": f"{url}/webhook",
        "plan": str(stack.data / "soak-plan.json"),
        "concurrency": plan.concurrency,
        "phone_number_id": phone["phone_number_id"],
        "secret": APP_SECRET,
        "rate": plan.rate,
        "timeout": plan.request_timeout,
        "retry": {"until": max(1.0, deadline.remaining() - 60)},
        "record_first_attempts": True,
    }
    out = stack.data / "loadgen.json"
    with out.open("wb") as stdout, (stack.data / "loadgen.log").open("ab") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.bench.loadgen", "soak", json.dumps(spec)],
            cwd=stack.data, env=stack.child_env(), stdout=stdout, stderr=stderr,
        )  # fmt: skip
        try:
            while process.poll() is None:
                if deadline.remaining() <= 0:
                    raise TimedOut("global timeout while posting the messages")
                watch.tick("posting")
                time.sleep(0.5)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{(stack.data / 'loadgen.log').read_text()}")
    return json.loads(out.read_text())


def _wait_answered(
    stack: Stack,
    phone: int,
    posted: int,
    echo: StatusEcho,
    plan: SoakPlan,
    deadline: Deadline,
    watch: Progress,
) -> str | None:
    """None once every message is answered and every send settled; else why we stopped."""

    def done() -> bool:
        watch.tick("draining")
        now = db.progress(phone)
        return (
            now["inbound"] >= posted
            and now["pending"] == 0
            and now["open_turns"] == 0
            and now["unresolved"] == 0
            and echo.drained()
        )

    try:
        wait_until(
            done,
            deadline,
            what="waiting for every message to be answered",
            progress=lambda: (len(stack.graph.sent), db.progress(phone)["pending"]),
            stall=plan.stall,
            interval=0.5,
        )
    except TimedOut as exc:
        return f"{exc}; at the end: {db.progress(phone)}"
    return None


def _count_in(path: Any, needle: str) -> int:
    try:
        return path.read_text(errors="replace").count(needle)
    except OSError:
        return 0
