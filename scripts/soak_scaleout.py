"""Soak the production layout (README "Running against your own servers") on this machine's
own servers, with one worker host lost mid-run; prove 0 lost, 0 duplicated, 0 overlapping
turns, in order; measure CPU per turn per role, the base of the conversations-per-core figure.

    python scripts/soak_scaleout.py              # 2,000 messages over 200 conversations
    python scripts/soak_scaleout.py --quick      # 300 over 30

Layout (scripts/bench/scaleout.py): PostgreSQL at --database-url (a fresh database is
created on that server and dropped afterwards), Redis at --redis-url (a database number that
must be empty; flushed afterwards) for the buffer, RabbitMQ at --broker-url as Celery's
broker (a virtual host of its own when rabbitmqctl may create one), 2 API processes, 3
`celery -A tasks worker` processes, beat, the fake Graph API and a fake Gemini answering
after --llm-latency seconds. Once --kill-at of the messages are in, one worker's whole
process group is killed with SIGKILL and not restarted.

When a server is unreachable the run is skipped with the reason (exit status 0). Results go
to --out (benchmarks/results) as soak-scaleout-latest.{json,md} for a default run.
Exit status 1 when a message was lost, answered twice, out of order, or turns overlapped.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.bench import rabbitmq, report, scaleout
from scripts.bench.common import Deadline, run_stack
from scripts.bench.stack import ROOT, Stack, StackOptions

FULL = {"messages": 2000, "conversations": 200, "timeout": 1800.0}
QUICK = {"messages": 300, "conversations": 30, "timeout": 600.0}
PREFIX = "soak-scaleout-"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="300 messages over 30 conversations")
    add("--messages", type=int)
    add("--conversations", type=int)
    add("--rate", type=float, default=20.0, help="messages a second, all APIs (default 20)")
    add("--apis", type=int, default=2, help="API processes (default 2)")
    add("--workers", type=int, default=3, help="worker processes, as hosts (default 3)")
    add("--concurrency", type=int, default=2, help="pool processes per worker (default 2)")
    add("--kill-at", type=float, default=0.5, help="kill a worker when this share is in")
    add("--llm-latency", type=float, default=0.2, metavar="SECONDS")
    add("--buffer", type=float, default=1.0, metavar="SECONDS", help="BUFFER_SECONDS (1)")
    add("--buffer-max", type=float, default=3.0, metavar="SECONDS")
    add("--sweeper", type=float, default=2.0, metavar="SECONDS")
    add("--stall", type=float, default=180.0, metavar="SECONDS")
    add("--timeout", type=float)
    add("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a server where a fresh database may be created")  # fmt: skip
    add("--redis-url", default="redis://127.0.0.1:6379/14", help="an empty database number")
    add("--broker-url", default=rabbitmq.base_url(), help="RabbitMQ (amqp://)")
    add("--out", type=Path, default=ROOT / "benchmarks" / "results")
    add("--keep-data", action="store_true")
    return parser.parse_args(argv)


def say(message: str) -> None:
    print(f"[scaleout {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def unreachable(args: argparse.Namespace) -> str | None:
    for name, url, port in (("PostgreSQL", args.database_url, 5432),
                            ("Redis", args.redis_url, 6379)):  # fmt: skip
        parts = urlsplit(url)
        try:
            socket.create_connection((parts.hostname or "127.0.0.1", parts.port or port), 1).close()
        except OSError as exc:
            return f"no {name} at {parts.hostname}:{parts.port or port} ({type(exc).__name__})"
    return rabbitmq.unreachable(args.broker_url)


@contextmanager
def fresh_database(url: str, keep: bool) -> Iterator[str]:
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"switchboard_scaleout_{os.getpid()}_{time.time_ns() % 10**6}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def own_redis_db(url: str) -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(url)
    if client.dbsize():
        raise SystemExit(f"{url} is not empty: name an unused database number (--redis-url)")
    try:
        yield url
    finally:
        client.flushdb()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reason = unreachable(args)
    if reason:
        print(f"SKIPPED: {reason}")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    size = QUICK if args.quick else FULL
    layout = scaleout.Layout(
        apis=args.apis, workers=args.workers, concurrency=args.concurrency,
        messages=args.messages or size["messages"],
        conversations=args.conversations or size["conversations"],
        rate=args.rate, kill_at=args.kill_at, stall=args.stall,
    )  # fmt: skip
    default = (layout.messages, layout.conversations) == (FULL["messages"], FULL["conversations"])
    kind = "quick" if args.quick else "full" if default else "partial"
    started, load_start = time.time(), report.loadavg()
    result: dict[str, Any]
    with (
        fresh_database(args.database_url, args.keep_data) as database_url,
        own_redis_db(args.redis_url) as redis_url,
        rabbitmq.vhost("switchboard-scaleout") as broker_url,
    ):
        options = StackOptions(
            buffer_seconds=args.buffer, buffer_max_seconds=args.buffer_max,
            sweeper_seconds=args.sweeper, workers=args.concurrency, api_workers=1,
            llm_latency=args.llm_latency, database_url=database_url, redis_url=redis_url,
            keep_data=args.keep_data, env={"CELERY_BROKER_URL": broker_url},
        )  # fmt: skip
        stack = Stack(options)
        say(f"{kind} run: {layout}; data in {stack.data}")
        result = run_stack(
            stack,
            lambda: scaleout.run(stack, layout, Deadline(args.timeout or size["timeout"]), say),
            say,
        )
    table = rows(result, args)
    meta = report.meta(
        kind=kind, started=started, loadavg_start=load_start,
        command=shlex.join([sys.executable, "scripts/soak_scaleout.py", *(argv or sys.argv[1:])]),
        extra={"layout": vars(layout)},
    )  # fmt: skip
    return report.publish(
        args.out, prefix=PREFIX, table=table, meta=meta, result=result,
        md=markdown(table, meta), problems=failures(result), say=say,
    )  # fmt: skip


def failures(r: dict[str, Any]) -> list[str]:
    if "error" in r:
        return [r["error"]]
    checks = {
        "lost": r["lost"] + r["tags"]["lost"],
        "duplicated": r["duplicated"] + r["tags"]["duplicated_replies"],
        "out of order": r["out_of_order"] + r["tags"]["conversations_out_of_order"],
        "overlapping turns": r["overlapping_turns"],
    }
    problems = [f"{name}: {n}" for name, n in checks.items() if n]
    return problems + ([r["timed_out"]] if r["timed_out"] else [])


def per_turn(r: dict[str, Any]) -> dict[str, float]:
    """CPU milliseconds per turn: all API processes, all workers, beat."""
    cpu, turns = r["cpu_seconds"], max(1, r["turns"])
    roles = {"api": "api-", "worker": "worker-", "beat": "beat"}
    return {
        role: 1000 * sum(v for k, v in cpu.items() if k.startswith(prefix)) / turns
        for role, prefix in roles.items()
    }


def rows(r: dict[str, Any], args: argparse.Namespace) -> list[report.Row]:
    if "error" in r:
        return [("scaleout", "did not finish", "-", r["error"].splitlines()[0][:160])]
    lay, ttr, ms = r["layout"], r["time_to_reply_s"], per_turn(r)
    kills = "; ".join(f"{i['detail']['processes']} processes, {i['detail']['open_turns']} "
                      "turns open" for i in r["injections"]) or "none"  # fmt: skip
    total = sum(ms.values())
    msgs_per_turn = r["messages"] / max(1, r["turns"])
    per_conversation = total * r["turns"] / 1000 / r["conversations"]
    per_day = 86_400 / per_conversation if per_conversation else None
    return [
        ("scaleout", "layout", f"{lay['apis']} API, {lay['workers']} workers x "
         f"{lay['concurrency']}, beat",
         "PostgreSQL, Redis (buffer) and RabbitMQ (broker) as external servers"),
        ("scaleout", "messages / conversations / turns",
         f"{r['messages']} / {r['conversations']} / {r['turns']}",
         f"{r['turns_redone']} turns redone; {r['posting']['retries']} webhook retries"),
        ("scaleout", "worker killed (SIGKILL, not restarted)", kills,
         f"at {lay['kill_at']:.0%} of the messages"),
        ("scaleout", "lost / duplicated / out of order / overlapping turns",
         f"{r['lost']} / {r['duplicated']} / {r['out_of_order']} / {r['overlapping_turns']}",
         f"by tag {r['tags']['lost']} / {r['tags']['duplicated_replies']} / "
         f"{r['tags']['conversations_out_of_order']}"),
        ("scaleout", "time to reply", f"p50 {ttr['p50']:.2f} s, p99 {ttr['p99']:.2f} s",
         f"BUFFER_SECONDS={args.buffer:g}, LLM latency {args.llm_latency:g} s"),
        ("scaleout", "CPU per turn", f"{total:.0f} ms",
         ", ".join(f"{k} {v:.0f} ms" for k, v in ms.items()) +
         f"; {msgs_per_turn:.1f} messages per turn (PostgreSQL, Redis, RabbitMQ not counted)"),
        ("scaleout", "conversations per core and day", f"{per_day:,.0f}" if per_day else "-",
         f"86,400 s / {per_conversation:.2f} CPU s per conversation of "
         f"{r['messages'] / r['conversations']:g} messages in "
         f"{r['turns'] / r['conversations']:.1f} turns (API + workers + beat, LLM not counted)"),
        ("scaleout", "throughput", f"{r['turns_per_second']:.1f} turns/s",
         f"{r['seconds']:.0f} s first post -> last reply"),
    ]  # fmt: skip


def markdown(table: list[report.Row], meta: dict[str, Any]) -> str:
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([
        f"# Switchboard scale-out soak ({meta['kind']})", "",
        f"{meta['finished_at']}, commit `{meta['git']['commit'][:12]}`, "
        f"{meta['machine']['cpus']} CPUs, took {meta['duration_seconds']:.0f} s, "
        f"load average at start {meta['machine']['loadavg_start']}.", "",
        line(report.HEADER), line(("---",) * 4), *[line(row) for row in table], "",
        f"Command: `{meta['command']}`", "",
    ])  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
