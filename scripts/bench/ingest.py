"""Webhook ingest: signed text-message webhooks at fixed concurrency, Switchboard's POST
/webhook next to two yardsticks served the same way, rounds alternating: a trivial FastAPI
endpoint (the HTTP stack alone) and a minimal durable webhook (HMAC, JSON, one committed
insert in the same PostgreSQL, one script in the same Redis: scripts/bench/durable_app.py).

No worker runs meanwhile, so the figure is the webhook alone: verify, parse, commit the
body to the inbox, hold the shard's trigger in Redis (the first webhook of a shard also
publishes its drain). The drain (storage, burst, flush) is a worker's: after the mixed run
this process drains what it posted and reports the CPU that took per inbox row. The
customers exist (a warm-up wrote to each, drained here). What it leaves behind is removed
afterwards.

Then the mixed run, open loop: MIXED_MESSAGES_PER_SECOND message webhooks a second, each
followed by the sent, delivered and read statuses of a reply stored beforehand as an
outbound message (so each status is a real UPDATE), 4x that many requests a second offered
whatever the latency, for `mixed_seconds`: achieved rate and latency from the planned time.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from scripts.bench import db, durable_app
from scripts.bench.common import Deadline, loadgen
from scripts.bench.cpu import CpuMeter
from scripts.bench.stack import APP_SECRET, Stack, terminate

APPS = ("trivial", "durable", "switchboard")
MIXED_MESSAGES_PER_SECOND = 80  # and 3 statuses each: 320 requests a second offered


def run(stack: Stack, *, size: dict[str, Any], concurrency: int, deadline: Deadline) -> dict:
    phone = stack.add_phone("ingest")
    urls, processes = {}, {}
    for name, app in (
        ("switchboard", "api.app:create_app"),
        ("trivial", "scripts.bench.trivial_app:create_app"),
        ("durable", "scripts.bench.durable_app:create_app"),
    ):
        urls[name], processes[name] = stack.serve(f"ingest-{name}", app)
    common = {
        "phone_number_id": phone["phone_number_id"],
        "secret": APP_SECRET,
        "wa_prefix": "1556",
        "customers": size["customers"],
        "concurrency": concurrency,
    }
    meter = CpuMeter(
        {
            "api (switchboard)": lambda: processes["switchboard"].pid,
            "api (trivial)": lambda: processes["trivial"].pid,
            "api (durable)": lambda: processes["durable"].pid,
            **stack.server_pids(),
        }
    )
    rounds = []
    loadgen_cpu = 0.0
    try:
        # untimed: every customer and conversation exists, both servers are warm
        for name in APPS:
            spec = {**common, "url": f"{urls[name]}/webhook", "count": size["customers"]}
            loadgen("ingest", {**spec, "run_id": f"warm{name}"}, deadline, stack)
        drain_inbox()
        conversations = list(db.conversations(phone["id"]).values())
        clear_bursts(conversations)
        meter.start()
        for index in range(size["rounds"]):
            results = {}
            for name in APPS:  # the same bodies, one after the other
                clear_bursts(conversations)  # each message opens a burst, as a first one does
                spec = {**common, "url": f"{urls[name]}/webhook", "duration": size["seconds"]}
                results[name] = loadgen(
                    "ingest", {**spec, "run_id": f"r{index}{name}"}, deadline, stack
                )
                loadgen_cpu += results[name].pop("cpu_seconds", 0.0)
            rounds.append(results)
        cpu = meter.stop({"load generator": loadgen_cpu})
        db.clear_inbox()  # no figure needs the rounds' rows handled
        mixed = None
        if size.get("mixed_seconds"):
            clear_bursts(conversations)
            mixed = run_mixed(stack, urls["switchboard"], processes["switchboard"].pid,
                              phone["id"], common, size["mixed_seconds"], deadline)  # fmt: skip
    finally:
        for process in processes.values():
            terminate(process)
        cleanup(stack, phone["id"])
    out = summarize(rounds, concurrency=concurrency, size=size, cpu=cpu)
    if mixed is not None:
        out["mixed"] = mixed
    return out


def run_mixed(
    stack: Stack,
    url: str,
    pid: int,
    phone: int,
    common: dict[str, Any],
    seconds: float,
    deadline: Deadline,
) -> dict[str, Any]:
    """The open-loop run of messages and statuses against Switchboard alone."""
    groups = int(MIXED_MESSAGES_PER_SECOND * seconds)
    by_wa_id = db.conversations(phone)
    customers = [f"{common['wa_prefix']}{c % common['customers']:07d}" for c in range(groups)]
    replies = [
        (wa_id, f"wamid.bench.reply.{time.time_ns()}.{k:07d}") for k, wa_id in enumerate(customers)
    ]
    db.add_replies([(by_wa_id[wa_id], wamid) for wa_id, wamid in replies])
    spec = {
        **common,
        "url": f"{url}/webhook",
        "run_id": "mixed",
        "rate": 4 * MIXED_MESSAGES_PER_SECOND,
        "outbound": replies,
    }
    meter = CpuMeter({"api (switchboard)": lambda: pid})
    meter.start()
    result = loadgen("mixed", spec, deadline, stack)
    cpu = meter.stop({"load generator": result.pop("cpu_seconds", 0.0)})
    api_seconds = cpu["cpu_seconds"]["api (switchboard)"]  # type: ignore[index]
    answered = _answered(result)
    started = time.process_time()
    drained = drain_inbox()
    drain_seconds = time.process_time() - started
    return {
        **result,
        "seconds": seconds,
        "cpu": cpu,
        "api_cpu_ms_per_request": 1000 * api_seconds / answered if answered else None,
        "drained": drained,
        "drain_cpu_ms_per_row": 1000 * drain_seconds / drained if drained else None,
        "reply_statuses": db.statuses_of([wamid for _, wamid in replies]),
    }


def summarize(rounds: list[dict], *, concurrency: int, size: dict[str, int], cpu: dict) -> dict:
    out: dict[str, Any] = {
        "concurrency": concurrency,
        "seconds_per_round": size["seconds"],
        "rounds": rounds,
        "customers": size["customers"],
        "cpu": cpu,
    }
    for name in APPS:
        mine = [r[name] for r in rounds]
        median = sorted(mine, key=lambda r: r["rps"])[len(mine) // 2]
        out[name] = {
            "rps": statistics.median(r["rps"] for r in mine),
            "p50_ms": median["latency_s"]["p50"] * 1000,
            "p99_ms": median["latency_s"]["p99"] * 1000,
            "errors": sum(r["errors"] for r in mine),
            "non_200": sum(n for r in mine for s, n in r["statuses"].items() if s != "200"),
        }
        requests = sum(_answered(r) for r in mine)
        seconds = cpu["cpu_seconds"].get(f"api ({name})", 0.0)
        out[name]["api_cpu_ms_per_request"] = 1000 * seconds / requests if requests else None
    out["ratio"] = out["switchboard"]["rps"] / out["trivial"]["rps"]
    out["ratio_durable"] = out["switchboard"]["rps"] / out["durable"]["rps"]
    return out


def _answered(result: dict[str, Any]) -> int:
    """Requests answered in one round (any status)."""
    return sum(result["statuses"].values())


def drain_inbox() -> int:
    """Handle what the webhook left in the inbox, here, as a worker's drain would: the
    rows handled."""
    from services.ingest.flows import default_scheduler
    from services.ingest.inbox import drain_all

    return drain_all(default_scheduler()).handled


def clear_bursts(conversations: list[int]) -> None:
    from persistence.buffer import _KEY, DUE_KEY
    from tasks import runtime

    client = runtime.buffer().client
    for start in range(0, len(conversations), 500):
        chunk = conversations[start : start + 500]
        client.zrem(DUE_KEY, *chunk)
        client.delete(*[_KEY.format(i) for i in chunk])


def cleanup(stack: Stack, phone: int) -> None:
    """No worker ran: drop the open bursts and (on our own Redis only) the queued flushes,
    then the rows. A flush left in a given Redis finds nothing to do later."""
    from tasks import app

    if stack.embedded["redis"]:
        app.control.purge()
    clear_bursts(list(db.conversations(phone).values()))
    db.clear_inbox()
    db.delete_conversations(phone)
    durable_app.drop()
