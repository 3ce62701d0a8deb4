"""API process CPU per request, around the webhook handler: what the framework, the
middleware, the routing and the logging cost, measured against a trivial FastAPI app.

    python scripts/profile_api.py                   # 3 rounds x 5 s of each app
    python scripts/profile_api.py --top 40          # and where the CPU goes (cProfile)

Three apps, each served by scripts/bench/serve.py the way run_server.py serves the API
(its uvicorn options and JSON logging, one process), fed the same signed text-message
webhooks by the benchmark's load generator (its own process, concurrency 16), in
alternating rounds:
- trivial: scripts/bench/trivial_app.py, FastAPI alone (reads the body, returns JSON);
- noop: Switchboard's app with POST /webhook doing what the trivial one does, so its
  excess over trivial is what every request pays outside its handler;
- switchboard: Switchboard's app, POST /webhook for real (no worker runs, so every
  message opens a burst and queues a flush, as in the ingest benchmark).
CPU is each server process's (psutil: user + system) over the requests it answered,
the figure a busy shared machine moves least; compare only runs made back to back.
With --top, each server's event-loop thread is profiled after the warm-up (cProfile
with CPU time, which slows everything: read the shares, not the times).
"""

from __future__ import annotations

import argparse
import os
import pstats
import signal
import statistics
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.bench import ingest
from scripts.bench.common import Deadline, loadgen
from scripts.bench.cpu import tree_seconds
from scripts.bench.stack import APP_SECRET, Stack, StackOptions, terminate, wait_http

APPS = {
    "trivial": "scripts.bench.trivial_app:create_app",
    "noop": "scripts.bench.noop_app:create_app",
    "switchboard": "api.app:create_served_app",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="per app per round")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--apps", default=",".join(APPS), help="comma-separated app names")
    parser.add_argument("--top", type=int, default=0, help="functions to list per app (cProfile)")
    parser.add_argument("--keep-data", action="store_true", help="keep the servers' logs")
    args = parser.parse_args(argv)
    servers_only = StackOptions(  # no worker or beat: the API processes are all we measure
        buffer_seconds=15, buffer_max_seconds=60, sweeper_seconds=3600, workers=0,
        api_workers=1, llm_latency=0.0, database_url=None, redis_url=None, keep_data=args.keep_data,
    )  # fmt: skip
    with closing(Stack(servers_only).start()) as stack:
        return _measure(stack, args)


def _measure(stack: Stack, args: argparse.Namespace) -> int:
    from persistence.embedded import free_port

    names = [name.strip() for name in args.apps.split(",") if name.strip()]
    deadline = Deadline(3600)
    phone = stack.add_phone("api")
    common = {
        "phone_number_id": phone["phone_number_id"], "secret": APP_SECRET, "wa_prefix": "1557",
        "customers": args.customers, "concurrency": args.concurrency,
    }  # fmt: skip
    servers, urls, profiles = {}, {}, {}
    try:
        for name in names:
            port = free_port()
            cmd = [sys.executable, "-m", "scripts.bench.serve", APPS[name], str(port)]
            if args.top:
                profiles[name] = stack.data / f"{name}.prof"
                cmd += ["--profile", str(profiles[name])]
            servers[name] = stack.spawn(f"api-{name}", cmd)
            urls[name] = f"http://127.0.0.1:{port}"
            wait_http(f"{urls[name]}/health", servers[name], stack.data / f"api-{name}.log")
        for name in names:  # every customer and conversation exists; the servers are warm
            spec = {**common, "url": f"{urls[name]}/webhook", "count": 2 * args.customers}
            loadgen("ingest", {**spec, "run_id": f"warm{name}"}, deadline, stack)
        conversations = list(ingest.db.conversations(phone["id"]).values())
        for process in servers.values():
            if args.top:
                os.kill(process.pid, signal.SIGUSR1)
        figures: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for index in range(args.rounds):
            for name in names:
                ingest.clear_bursts(conversations)  # each message opens a burst
                before = tree_seconds(servers[name].pid)
                spec = {**common, "url": f"{urls[name]}/webhook", "duration": args.seconds}
                result = loadgen("ingest", {**spec, "run_id": f"r{index}{name}"}, deadline, stack)
                cpu = tree_seconds(servers[name].pid) - before
                answered = sum(result["statuses"].values())
                figures[name].append({**result, "cpu_ms": 1000 * cpu / answered})
        if args.top:
            for process in servers.values():
                os.kill(process.pid, signal.SIGUSR2)
    finally:
        for process in servers.values():
            terminate(process)
        ingest.cleanup(stack, phone["id"])
    _report(figures)
    if args.keep_data:
        print(f"servers' logs: {stack.data}/api-*.log")
    for name, path in profiles.items():
        answered = sum(sum(r["statuses"].values()) for r in figures[name])
        _top(name, path, answered, args.top)
    return 0


def _report(figures: dict[str, list[dict[str, Any]]]) -> None:
    print(f"{'app':<12} {'CPU ms/request':>15} {'rounds':>22} {'req/s':>7} {'non-200':>8}")
    for name, rounds in figures.items():
        cpu = [r["cpu_ms"] for r in rounds]
        non_200 = sum(n for r in rounds for status, n in r["statuses"].items() if status != "200")
        each = " ".join(f"{c:.3f}" for c in cpu)
        rps = statistics.median(r["rps"] for r in rounds)
        print(f"{name:<12} {statistics.median(cpu):>15.3f} {each:>22} {rps:>7.0f} {non_200:>8}")


def _top(name: str, path: Path, answered: int, top: int) -> None:
    """Own and cumulative CPU per request by function, with cProfile on."""
    stats: dict[Any, Any] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    rows = sorted(
        ((own, cumulative, calls, f"{_short(file)}:{line} {function}")
         for (file, line, function), (_, calls, own, cumulative, _) in stats.items()),
        reverse=True,
    )  # fmt: skip
    total = sum(row[0] for row in rows)
    print(f"\n{name}: {1e6 * total / answered:.0f} µs per request with cProfile on; by own time")
    print(f"{'own µs':>7} {'cumul':>7} {'calls/req':>9}")
    for own, cumulative, calls, where in rows[:top]:
        print(f"{1e6 * own / answered:>7.1f} {1e6 * cumulative / answered:>7.1f} "
              f"{calls / answered:>9.2f}  {where}")  # fmt: skip


def _short(file: str) -> str:
    for marker in ("site-packages/", str(Path(__file__).resolve().parent.parent) + "/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


if __name__ == "__main__":
    raise SystemExit(main())
