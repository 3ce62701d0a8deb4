"""Benchmark Switchboard on this machine against the real stack, and print one table.

    python scripts/bench.py                 # the full run (see README, Performance)
    python scripts/bench.py --quick         # a small version, for CI and while developing
    python scripts/bench.py --only ingest,soak --messages 2000 --conversations 200

PostgreSQL and Redis are embedded in a fresh temporary directory unless --database-url /
--redis-url (or DATABASE_URL / REDIS_URL) name servers, which should then be dedicated to
the run: other workers on that Redis would take its tasks. The Graph API and Gemini are the
tests' fakes on 127.0.0.1, the LLM answering after --llm-latency seconds.

Sections: ingest, turn, burst, prompt, checkpoint, soak, commerce. The table is also written as JSON
(with every raw figure and the machine) and markdown to --out (benchmarks/results):
latest.* for a full run, latest-quick.* / latest-partial.* otherwise, and a timestamped
copy each time. Exit status 1 when a section failed or the soak lost, duplicated or
reordered a reply; no timing is ever a failure.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.bench import commerce, desk, ingest, report, soak, turns
from scripts.bench.common import Deadline, TimedOut
from scripts.bench.stack import ROOT, Stack, StackOptions

SECTIONS = ("ingest", "turn", "burst", "prompt", "checkpoint", "soak", "commerce", "desk")
FULL = {
    "ingest": {"seconds": 5.0, "rounds": 3, "customers": 3000, "mixed_seconds": 10.0},
    "turn_conversations": 300,
    "burst_conversations": 20,
    "marks": (10, 100, 500),
    "messages": 10_000,
    "conversations": 1_000,
    "products": 10_000,
    "searches": 1_000,
    "desk": {"conversations": 10_000, "messages_each": 6, "requests": 30},
    "timeout": 3600.0,
}
QUICK = {
    "ingest": {"seconds": 1.5, "rounds": 1, "customers": 500, "mixed_seconds": 2.0},
    "turn_conversations": 30,
    "burst_conversations": 4,
    "marks": (10, 30, 60),
    "messages": 300,
    "conversations": 50,
    "products": 500,
    "searches": 100,
    "desk": {"conversations": 500, "messages_each": 4, "requests": 5},
    "timeout": 600.0,
}
BURST_SIZES = (1, 3, 10)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a small run (smoke test)")
    parser.add_argument("--only", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument(
        "--llm-latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="fixed latency of the fake LLM (default 0)",
    )
    parser.add_argument("--messages", type=int, help="soak messages (default 10000)")
    parser.add_argument("--conversations", type=int, help="soak conversations (default 1000)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=16,
        help="open connections posting webhooks (ingest, soak; default 16)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="Celery worker processes, as run_server.py (default 2)",
    )
    parser.add_argument(
        "--api-workers",
        type=int,
        default=1,
        help="uvicorn worker processes for both apps (default 1)",
    )
    parser.add_argument(
        "--buffer",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="BUFFER_SECONDS for turn, burst and soak (default 0.5)",
    )
    parser.add_argument(
        "--prompt-buffer",
        type=float,
        default=0.05,
        metavar="SECONDS",
        help="BUFFER_SECONDS while driving the long conversation (default 0.05)",
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument(
        "--timeout", type=float, help="global timeout in seconds (default 3600, --quick 600)"
    )
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the temporary DATA_DIR (logs, embedded servers' files)",
    )
    args = parser.parse_args(argv)
    args.sections = _sections(parser, args.only)
    return args


def _sections(parser: argparse.ArgumentParser, only: str | None) -> tuple[str, ...]:
    if not only:
        return SECTIONS
    chosen = [s.strip() for s in only.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return tuple(s for s in SECTIONS if s in chosen)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def section(results: dict[str, Any], names: tuple[str, ...], run: Callable[[], Any]) -> None:
    """Run one section; a failure is recorded in the report and the run goes on."""
    say(f"{' + '.join(names)} ...")
    started = time.monotonic()
    try:
        result = run()
    except TimedOut as exc:
        result = {"error": f"timed out: {exc}"}
    except Exception as exc:  # the report says what broke; the other sections still run
        result = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        say(result["traceback"])
    for name in names:
        results[name] = result
    say(f"{' + '.join(names)} done in {time.monotonic() - started:.0f} s")


def start_services(
    stack: Stack,
    args: argparse.Namespace,
    *,
    buffer_seconds: float,
    deadline: Deadline,
    results: dict[str, Any],
    names: tuple[str, ...],
) -> str | None:
    """API, worker and beat, warmed up; None (and the sections' error noted) if that failed."""
    say(f"starting API, worker and beat (BUFFER_SECONDS={buffer_seconds:g}) and warming up")
    try:
        url = stack.start_services(buffer_seconds=buffer_seconds)
        turns.warm_up(stack, url, conversations=3 * args.workers, deadline=deadline)
    except (TimedOut, RuntimeError) as exc:
        say(f"could not start the services: {exc}")
        for name in names:
            results[name] = {"error": f"services did not start: {exc}"}
        return None
    return url


def run_sections(stack: Stack, args: argparse.Namespace, size: dict[str, Any]) -> dict:
    results: dict[str, Any] = {}
    deadline = Deadline(args.timeout or size["timeout"])
    wanted = set(args.sections)
    if "ingest" in wanted:
        section(
            results,
            ("ingest",),
            lambda: ingest.run(
                stack, size=size["ingest"], concurrency=args.concurrency, deadline=deadline
            ),
        )
    if "commerce" in wanted:
        section(
            results,
            ("commerce",),
            lambda: commerce.run(
                products=size["products"], searches=size["searches"], deadline=deadline
            ),
        )
    if "desk" in wanted:
        section(results, ("desk",), lambda: desk.run(**size["desk"], deadline=deadline))
    long_names = tuple(s for s in ("prompt", "checkpoint") if s in wanted)
    if long_names and (
        url := start_services(
            stack,
            args,
            buffer_seconds=args.prompt_buffer,
            deadline=deadline,
            results=results,
            names=long_names,
        )
    ):
        section(
            results,
            long_names,
            lambda: turns.long_conversation(stack, url, marks=size["marks"], deadline=deadline),
        )
    names = tuple(s for s in ("turn", "burst", "soak") if s in wanted)
    if names and (
        url := start_services(
            stack,
            args,
            buffer_seconds=args.buffer,
            deadline=deadline,
            results=results,
            names=names,
        )
    ):
        if "turn" in wanted:
            section(
                results,
                ("turn",),
                lambda: turns.turn_overhead(
                    stack,
                    url,
                    conversations=size["turn_conversations"],
                    workers=args.workers,
                    deadline=deadline,
                ),
            )
        if "burst" in wanted:
            section(
                results,
                ("burst",),
                lambda: turns.bursts(
                    stack,
                    url,
                    sizes=BURST_SIZES,
                    conversations=size["burst_conversations"],
                    deadline=deadline,
                ),
            )
        if "soak" in wanted:
            section(
                results,
                ("soak",),
                lambda: soak.run(
                    stack,
                    url,
                    messages=args.messages or size["messages"],
                    conversations=args.conversations or size["conversations"],
                    concurrency=args.concurrency,
                    deadline=deadline,
                ),
            )
    return results


def failed(results: dict[str, Any]) -> list[str]:
    problems = [f"{name}: {r['error']}" for name, r in results.items() if "error" in r]
    result = results.get("soak") or {}
    if "error" not in result and result:
        if result["lost"] or result["duplicated_replies"] or not result["in_order"]:
            problems.append("soak: lost, duplicated or out-of-order replies")
        if result.get("timed_out"):
            problems.append(f"soak: {result['timed_out']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (a CI timeout) unwinds like Ctrl-C: the servers and workers started are stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    size = QUICK if args.quick else FULL
    kind = "quick" if args.quick else "full" if args.sections == SECTIONS else "partial"
    args.out = args.out.resolve()
    started, load_start = time.time(), report.loadavg()
    options = StackOptions(
        buffer_seconds=args.buffer,
        buffer_max_seconds=3.0,
        sweeper_seconds=30.0,
        workers=args.workers,
        api_workers=args.api_workers,
        llm_latency=args.llm_latency,
        database_url=args.database_url,
        redis_url=args.redis_url,
        keep_data=args.keep_data,
    )
    stack = Stack(options)
    say(f"{kind} run of {', '.join(args.sections)}; data in {stack.data}")
    try:
        stack.start()
        server = _server_info(stack)
        results = run_sections(stack, args, size)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # already stopping: let it finish
        stack.close()
    settings = {
        "llm_latency": args.llm_latency,
        "buffer": args.buffer,
        "prompt_buffer": args.prompt_buffer,
        "buffer_max": options.buffer_max_seconds,
        "sweeper_interval": options.sweeper_seconds,
        "workers": args.workers,
        "api_workers": args.api_workers,
        "concurrency": args.concurrency,
        "sizes": size,
    }
    table = report.rows(results, settings)
    meta = report.meta(
        kind=kind,
        started=started,
        loadavg_start=load_start,
        command=shlex.join([sys.executable, "scripts/bench.py", *(argv or sys.argv[1:])]),
        extra={"servers": server, "settings": settings},
    )
    document = {
        "meta": meta,
        "table": [dict(zip(report.HEADER, r, strict=True)) for r in table],
        "results": results,
    }
    written = report.write(args.out, kind, document, report.markdown(table, meta, results))
    print(report.plain(table))
    say(f"took {meta['duration_seconds']:.0f} s; wrote {', '.join(str(p) for p in written)}")
    problems = failed(results)
    for problem in problems:
        say(f"FAILED {problem}")
    return 1 if problems else 0


def _server_info(stack: Stack) -> dict[str, Any]:
    from scripts.bench import db

    return {"embedded": stack.embedded, "postgres": db.server_info()}


if __name__ == "__main__":
    sys.exit(main())
