"""Soak Switchboard under faults: messages through the real webhook while the API is killed
mid-request, worker processes are killed mid-turn and Redis is flushed and restarted; then
proof that every message was answered once, in order, and how long replies took.

    python scripts/soak_faults.py            # 10,000 messages over 1,000 conversations
    python scripts/soak_faults.py --quick    # 500 over 50, faults every 4 s
    python scripts/soak_faults.py --faults worker-kill,redis-restart --messages 2000

The stack is the benchmark's (scripts/bench/stack.py): PostgreSQL and Redis embedded in a
fresh temporary directory unless --database-url / --redis-url name dedicated servers
(redis-restart needs the embedded Redis), the API under uvicorn, a Celery worker and beat,
the fake Graph API and a fake Gemini answering after --llm-latency seconds. The API, worker
and beat are supervised: started again whenever they exit, as a process manager would.

WhatsApp is played faithfully where it matters: a delivery that got no 2xx (refused, reset,
timed out, 5xx) is tried again with backoff until it does, and every accepted send gets a
`sent` status webhook naming its callback data. Faults (--faults, default all) strike in
turn every --fault-interval seconds while the messages go in:

  api-kill       FAILPOINTS=webhook.after_store=kill: the API dies after storing a message,
                 before answering; the retried delivery is a duplicate, a no-op
  worker-kill    SIGKILL to the worker's pool processes while turns run; the turn is redone
  redis-flush    FLUSHALL on the broker: queued tasks and burst windows gone
  redis-restart  Redis stopped, an empty one started on the same port --redis-down later

Lost, duplicated and out-of-order replies are counted from PostgreSQL and the Graph API's
sends (scripts/bench/ledger.py). The table is printed and written as JSON and markdown to
--out (benchmarks/results): soak-faults-latest.* for a default run, soak-faults-latest-quick.*
or -partial.* otherwise, and a timestamped copy. Exit status 1 when a message was lost,
answered twice or out of order, or the run did not finish.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.bench import fault_soak, report
from scripts.bench.common import Deadline, run_stack
from scripts.bench.fault import KINDS
from scripts.bench.stack import ROOT, Stack, StackOptions

FULL = {"messages": 10_000, "conversations": 1_000, "fault_interval": 15.0, "timeout": 2400.0}
QUICK = {"messages": 500, "conversations": 50, "fault_interval": 4.0, "timeout": 600.0}
PREFIX = "soak-faults-"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="500 messages over 50 conversations")
    add("--messages", type=int, help="messages to post (default 10000)")
    add("--conversations", type=int, help="conversations they belong to (default 1000)")
    add("--faults", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)}")
    add("--fault-interval", type=float, metavar="SECONDS", help="default 15, --quick 4")
    add(
        "--rate", type=float, default=20.0, help="messages a second posted (default 20; 0: all out)"
    )
    add("--llm-latency", type=float, default=0.2, metavar="SECONDS", help="default 0.2")
    add("--concurrency", type=int, default=16, help="connections posting webhooks (default 16)")
    add("--request-timeout", type=float, default=10.0, metavar="SECONDS",
        help="a delivery not answered in this time is tried again (default 10)")  # fmt: skip
    add("--workers", type=int, default=4, help="Celery worker processes (default 4)")
    add("--buffer", type=float, default=1.0, metavar="SECONDS", help="BUFFER_SECONDS (1)")
    add("--buffer-max", type=float, default=3.0, metavar="SECONDS", help="BUFFER_MAX_SECONDS (3)")
    add("--sweeper", type=float, default=2.0, metavar="SECONDS",
        help="SWEEPER_INTERVAL_SECONDS (default 2)")  # fmt: skip
    add("--send-reconcile", type=float, default=30.0, metavar="SECONDS",
        help="SEND_RECONCILE_SECONDS (default 30)")  # fmt: skip
    add("--redis-down", type=float, default=1.0, metavar="SECONDS",
        help="how long Redis stays down in a restart (default 1)")  # fmt: skip
    add("--stall", type=float, default=180.0, metavar="SECONDS",
        help="give up waiting when no reply arrived for this long (default 180)")  # fmt: skip
    add("--timeout", type=float, help="global timeout in seconds (default 2400, --quick 600)")
    add("--database-url", default=os.environ.get("DATABASE_URL"))
    add("--redis-url", default=os.environ.get("REDIS_URL"))
    add("--out", type=Path, default=ROOT / "benchmarks" / "results")
    add("--keep-data", action="store_true", help="keep the temporary DATA_DIR (logs, servers)")
    args = parser.parse_args(argv)
    args.faults = tuple(f.strip() for f in args.faults.split(",") if f.strip())
    unknown = sorted(set(args.faults) - set(KINDS))
    if unknown or not args.faults:
        parser.error(f"unknown fault(s) {', '.join(unknown)}; choose from {', '.join(KINDS)}")
    if "redis-restart" in args.faults and args.redis_url:
        parser.error("redis-restart needs the embedded Redis: drop --redis-url or that fault")
    return args


def say(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop what we started
    size = QUICK if args.quick else FULL
    plan = fault_soak.SoakPlan(
        messages=args.messages or size["messages"],
        conversations=args.conversations or size["conversations"],
        rate=args.rate,
        concurrency=args.concurrency,
        request_timeout=args.request_timeout,
        faults=args.faults,
        fault_every=args.fault_interval or size["fault_interval"],
        redis_down=args.redis_down,
        stall=args.stall,
    )
    default = (plan.messages, plan.conversations, plan.faults) == (
        FULL["messages"], FULL["conversations"], KINDS
    )  # fmt: skip
    kind = "quick" if args.quick else "full" if default else "partial"
    settings = {
        "llm_latency": args.llm_latency, "workers": args.workers, "buffer": args.buffer,
        "buffer_max": args.buffer_max, "sweeper_interval": args.sweeper,
        "send_reconcile": args.send_reconcile, "rate": plan.rate,
        "concurrency": plan.concurrency, "fault_interval": plan.fault_every,
        "redis_down": plan.redis_down, "request_timeout": plan.request_timeout,
    }  # fmt: skip
    options = StackOptions(
        buffer_seconds=args.buffer,
        buffer_max_seconds=args.buffer_max,
        sweeper_seconds=args.sweeper,
        workers=args.workers,
        api_workers=1,  # the failpoint kills the server process itself, not a uvicorn child
        llm_latency=args.llm_latency,
        database_url=args.database_url,
        redis_url=args.redis_url,
        keep_data=args.keep_data,
        env={"SEND_RECONCILE_SECONDS": str(args.send_reconcile)},
    )
    started, load_start = time.time(), report.loadavg()
    stack = Stack(options)
    say(
        f"{kind} run: {plan.messages} messages over {plan.conversations} conversations, faults "
        f"{', '.join(plan.faults)} every {plan.fault_every:g} s; data in {stack.data}"
    )
    deadline = Deadline(args.timeout or size["timeout"])
    result = run_stack(stack, lambda: fault_soak.run(stack, plan, deadline, say), say)
    table = rows(result, settings)
    meta = report.meta(
        kind=kind,
        started=started,
        loadavg_start=load_start,
        command=shlex.join([sys.executable, "scripts/soak_faults.py", *(argv or sys.argv[1:])]),
        extra={"settings": settings, "embedded": stack.embedded},
    )
    return report.publish(
        args.out, prefix=PREFIX, table=table, meta=meta, result=result,
        md=markdown(table, meta, result), problems=failures(result), say=say,
    )  # fmt: skip


def failures(r: dict[str, Any]) -> list[str]:
    if "error" in r:
        return [r["error"]]
    problems = []
    tags = r["tags"]
    if r["lost"] or tags["lost"]:
        problems.append(f"lost {r['lost']} (by tag {tags['lost']}): {r['lost_detail']['reasons']}")
    if r["duplicated"] or tags["duplicated_replies"]:
        problems.append(f"duplicated {r['duplicated']} (by tag {tags['duplicated_replies']})")
    if r["out_of_order"] or tags["conversations_out_of_order"]:
        problems.append(f"out of order {r['out_of_order']} conversations "
                        f"(by tag {tags['conversations_out_of_order']})")  # fmt: skip
    if r["timed_out"]:
        problems.append(r["timed_out"])
    return problems


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def rows(r: dict[str, Any], o: dict[str, Any]) -> list[report.Row]:
    if "error" in r:
        return [("soak-faults", "did not finish", "-", r["error"].splitlines()[0][:160])]
    tags, posting, ttr = r["tags"], r["posting"], r["time_to_reply_s"]
    status = "timed out: " + r["timed_out"][:120] if r["timed_out"] else "complete"
    restarts = {role: sum(k.values()) for role, k in r["restarts"].items()}
    how = "; ".join(f"{role}: " + ", ".join(f"{n} {k}" for k, n in kinds.items())
                    for role, kinds in r["restarts"].items())  # fmt: skip
    reasons = posting.get("retry_reasons", {})
    out: list[report.Row] = [
        ("soak-faults", "messages / conversations", f"{r['messages']} / {r['conversations']}",
         f"{r['bursts']} bursts at {o['rate']:g} messages/s, {o['concurrency']} connections; "
         f"{status}"),
        ("soak-faults", "faults injected",
         ", ".join(f"{k} {n}" for k, n in r["faults"].items()),
         f"every {o['fault_interval']:g} s while posting; {r['faults_took_effect']} of "
         f"{sum(r['faults'].values())} took effect"),
        ("soak-faults", "restarts by the supervisor",
         ", ".join(f"{k} {n}" for k, n in restarts.items()) or "none", how or "-"),
        ("soak-faults", "deliveries retried by \"WhatsApp\"", str(posting["retries"]),
         ", ".join(f"{k} {n}" for k, n in sorted(reasons.items())) + f"; at most "
         f"{posting['most_attempts']} attempts for one message; {len(posting['failed'])} "
         "never accepted"),
        ("soak-faults", "lost / duplicated / out of order",
         f"{r['lost']} / {r['duplicated']} / {r['out_of_order']}",
         f"ledger (PostgreSQL + Graph API sends); by tag {tags['lost']} / "
         f"{tags['duplicated_replies']} / {tags['conversations_out_of_order']}"),
        ("soak-faults", "turns", f"{r['turns']} ({r['turns_redone']} redone)",
         ", ".join(f"{k} {n}" for k, n in sorted(r["turn_outcomes"].items(), key=str)) +
         f"; {r['replies_received']} replies received, {r['replies_resent']} of them sent "
         "again by reconciliation (no status for the first attempt)"),
        ("soak-faults", "time to reply", f"p50 {_s(ttr['p50'])}, p99 {_s(ttr['p99'])}",
         f"max {_s(ttr['max'])}; first delivery attempt -> reply at the Graph API; "
         f"LLM latency {o['llm_latency']:g} s"),
    ]  # fmt: skip
    by_fault, window = r["time_to_reply_by_fault"], r["recovery_window_s"]
    for kind in sorted(by_fault, key=lambda k: (k != "none", k)):
        p = by_fault[kind]
        label, how = (
            ("no fault near", f"no fault while waiting nor in the {window:g} s before")
            if kind == "none"
            else (f"hit by {kind}", f"struck while waiting or up to {window:g} s before")
        )
        out.append(("soak-faults", f"time to reply, {label}",
                    f"p50 {_s(p['p50'])}, p99 {_s(p['p99'])}",
                    f"max {_s(p['max'])}, {p['n']} messages ({how})"))  # fmt: skip
    out.append(("soak-faults", "throughput",
                f"{r['messages_per_second']:.1f} messages/s, {r['turns_per_second']:.1f} turns/s",
                f"{r['seconds']:.0f} s first post -> last reply; posting took "
                f"{r['posting_seconds']:.0f} s"))  # fmt: skip
    out.append(("soak-faults", "settings", f"{o['workers']} worker processes",
                f"BUFFER_SECONDS={o['buffer']:g}, BUFFER_MAX_SECONDS={o['buffer_max']:g}, "
                f"SWEEPER_INTERVAL_SECONDS={o['sweeper_interval']:g}, "
                f"SEND_RECONCILE_SECONDS={o['send_reconcile']:g}, Redis down "
                f"{o['redis_down']:g} s per restart"))  # fmt: skip
    return out


def markdown(table: list[report.Row], meta: dict[str, Any], r: dict[str, Any]) -> str:
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    out = [
        f"# Switchboard soak under faults ({meta['kind']})",
        "",
        f"{meta['finished_at']}, commit `{meta['git']['commit'][:12]}`"
        + (" (uncommitted changes)" if meta["git"]["dirty"] else "")
        + f", {meta['machine']['cpus']} CPUs ({meta['machine']['cpu_model']}), "
        f"Python {meta['python']}, took {meta['duration_seconds']:.0f} s.",
        "",
        line(report.HEADER),
        line(("---",) * 4),
        *[line(row) for row in table],
        "",
        f"Command: `{meta['command']}`",
    ]
    if "injections" in r:
        out += ["", "## Faults", ""]
        for i in r["injections"]:
            when = time.strftime("%H:%M:%S", time.gmtime(i["at"]))
            detail = ", ".join(f"{k} {v}" for k, v in i["detail"].items())
            effect = "" if i["took_effect"] else " (did not take effect)"
            out.append(f"- {when} **{i['kind']}**{effect}: {detail}")
    for example in r.get("out_of_order_detail", {}).get("examples", []):
        out += ["", f"## Out of order: conversation {example['conversation_id']}", ""]
        out += ["Replies as the Graph API received them (seconds after the first):", ""]
        for reply in example["replies"]:
            out.append(
                f"- +{reply['at_s']:g} s: turn {reply['turn_id']} ({reply['turn_outcome']}, "
                f"attempt {reply['turn_attempts']}), outbox row {reply['outbox_id']} sent "
                f"{reply['send_attempts']}x: `{reply['text']}`"
            )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
