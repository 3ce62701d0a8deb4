"""Profile the storage step of ingest in this process (a worker's, since POST /webhook
only commits the body to the inbox: services.ingest.inbox drains it through `intake`): SQL
statements and CPU per webhook, for inbound messages and for delivery statuses.

    python scripts/profile_ingest.py                 # 2000 webhooks of each kind, 3 runs
    python scripts/profile_ingest.py -n 500 --runs 1 --top 30   # and where the time goes

The stack is the benchmark's (scripts/bench/stack.py: embedded PostgreSQL and Redis), but
no API or worker process runs: each webhook is parsed beforehand and handed to
`services.ingest.flows.intake`, as the inbox's drain does for each row, with a
scheduler whose Redis buffer and Celery publish do nothing (they are not the storage step).
The common case is measured: a text message from a known customer of a known number whose
conversation exists (customers cycle over --customers), and one status (sent, delivered,
read in turn) of a known outbound message per webhook. CPU is this process's
(time.process_time, so PostgreSQL's own work is not in it): the median of --runs runs.
Statement counts do not depend on the machine's load; CPU does, so compare it only between
runs made back to back.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.bench.stack import ROOT, Stack, StackOptions
from scripts.profile_turn import counting_statements


@dataclass(frozen=True)
class _Noted:
    is_new_burst: bool = False
    seconds_left: float = 0.0


class _NoBuffer:
    def note(self, conversation_id: int) -> _Noted:
        return _Noted()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=2000, help="webhooks of each kind per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--top", type=int, default=0, help="functions to list (cProfile run)")
    args = parser.parse_args(argv)
    servers_only = StackOptions(  # no API, worker or beat process: intake runs here
        buffer_seconds=0.05, buffer_max_seconds=0.1, sweeper_seconds=3600, workers=0,
        api_workers=0, llm_latency=0.0, database_url=None, redis_url=None, keep_data=False,
    )  # fmt: skip
    with closing(Stack(servers_only).start()) as stack:
        return _profile(stack, args)


def _profile(stack: Stack, args: argparse.Namespace) -> int:
    from channels.webhook import parse_notification
    from observability.logs import configure
    from services.delivery.flows import apply_statuses
    from services.ingest.flows import Scheduler, intake
    from services.parking.flows import apply_statuses as park_now

    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115 (the logs go there)
    configure("INFO", "json")
    sys.stderr = stderr
    scheduler = Scheduler(_NoBuffer, lambda c, s: None, apply_statuses, lambda s: True, park_now)
    phone = stack.add_phone("ingest")
    wa_ids = [f"1555{7000000 + i}" for i in range(args.customers)]
    for wa_id in wa_ids:  # the customers and their conversations exist
        intake(parse_notification(_message(phone, wa_id, "hello")), scheduler)
    outbound = _outbound(phone["id"], args.n)
    results: dict[str, list[float]] = {"message": [], "status": []}
    counts: dict[str, Counter[str]] = {"message": Counter(), "status": Counter()}
    for run in range(args.runs):
        messages = [
            parse_notification(_message(phone, wa_ids[i % len(wa_ids)], f"question {run}.{i}"))
            for i in range(args.n)
        ]
        kind = ("sent", "delivered", "read")[run % 3]
        statuses = [parse_notification(_status(phone, wamid, kind)) for wamid in outbound]
        for name, notifications in (("message", messages), ("status", statuses)):
            statements: Counter[str] = Counter()
            with counting_statements(statements):
                started = time.process_time()
                for notification in notifications:
                    intake(notification, scheduler)
                cpu = time.process_time() - started
            results[name].append(cpu)
            counts[name] = statements
    n = args.n
    for name in ("message", "status"):
        per = ", ".join(f"{verb} {c / n:g}" for verb, c in counts[name].most_common())
        runs = " ".join(f"{1e6 * cpu / n:.0f}" for cpu in results[name])
        print(f"{name}: {sum(counts[name].values()) / n:g} statements per webhook ({per}); "
              f"CPU {1e6 * statistics.median(results[name]) / n:.0f} µs per webhook "
              f"(median; each run: {runs})")  # fmt: skip
    print(f"rows: {_outcome(phone['id'])}")
    if args.top:
        _top(phone, wa_ids, outbound, scheduler, args)
    return 0


def _top(phone: dict[str, Any], wa_ids: list[str], outbound: list[str], scheduler: Any,
         args: argparse.Namespace) -> None:  # fmt: skip
    """Where the CPU goes, for each kind of webhook (cProfile, which slows everything)."""
    from channels.webhook import parse_notification
    from services.ingest.flows import intake

    kinds = {
        "message": [parse_notification(_message(phone, wa_ids[i % len(wa_ids)], f"top {i}"))
                    for i in range(args.n)],
        "status": [parse_notification(_status(phone, wamid, "read")) for wamid in outbound],
    }  # fmt: skip
    for kind, notifications in kinds.items():
        profile = cProfile.Profile(time.process_time)  # CPU, not the waits for PostgreSQL
        profile.enable()
        for notification in notifications:
            intake(notification, scheduler)
        profile.disable()
        stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
        rows = [
            (own, cumulative, calls, f"{_short(file)}:{line} {name}")
            for (file, line, name), (_, calls, own, cumulative, _) in stats.items()
        ]
        n = len(notifications)
        print(f"{kind}: CPU per webhook in µs with cProfile on, by own time")
        print(f"{'own':>6} {'cumul':>6} {'calls':>6}")
        for own, cumulative, calls, where in sorted(rows, reverse=True)[: args.top]:
            print(f"{1e6 * own / n:6.0f} {1e6 * cumulative / n:6.0f} {calls / n:6g}  {where}")


def _short(file: str) -> str:
    return str(Path(file).relative_to(ROOT)) if file.startswith(str(ROOT)) else Path(file).name


def _message(phone: dict[str, Any], wa_id: str, text: str) -> object:
    from channels.simulators.webhooks import text_message_payload

    payload = text_message_payload(phone_number_id=phone["phone_number_id"], wa_id=wa_id,
                                   text=text)  # fmt: skip
    return json.loads(json.dumps(payload))


def _status(phone: dict[str, Any], wamid: str, status: str) -> object:
    from channels.simulators.webhooks import status_payload

    return status_payload(phone_number_id=phone["phone_number_id"], wamid=wamid, status=status)


def _outcome(phone_id: int) -> dict[str, int]:
    """Messages of the number by direction and status: every webhook must have landed."""
    from sqlalchemy import text

    from persistence.db import session_scope

    with session_scope() as session:
        rows = session.execute(
            text(
                "SELECT m.direction || ':' || m.status AS k, count(*) AS n FROM messages m"
                " JOIN conversations c ON c.id = m.conversation_id"
                " WHERE c.phone_number_id = :phone GROUP BY 1 ORDER BY 1"
            ),
            {"phone": phone_id},
        )
        return {row.k: row.n for row in rows}


def _outbound(phone_id: int, count: int) -> list[str]:
    """`count` outbound messages accepted by WhatsApp, in the number's conversations."""
    from sqlalchemy import text

    from persistence.db import session_scope

    with session_scope() as session:
        rows = session.execute(
            text(
                "INSERT INTO messages (conversation_id, direction, author, type, text, wamid,"
                " status, send_attempts, created_at)"
                " SELECT c.id, 'out', 'ai', 'text', 'reply', 'wamid.bench.' || g, 'accepted',"
                " 1, now() FROM generate_series(1, :count) g"
                " JOIN LATERAL (SELECT id FROM conversations WHERE phone_number_id = :phone"
                " ORDER BY id OFFSET g % 10 LIMIT 1) c ON true RETURNING wamid"
            ),
            {"count": count, "phone": phone_id},
        )
        return [row.wamid for row in rows]


if __name__ == "__main__":
    sys.exit(main())
