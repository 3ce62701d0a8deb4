"""Soak: N messages across M conversations through the real webhook, then proof that every
message was answered once, in order.

Each message carries a tag `#<conversation>.<index>`, and the fake LLM answers a turn with
the tags of the burst it was given (`ack #7.3 #7.4`). The replies the fake Graph API
received therefore say which messages each reply answered: lost = tags never acknowledged,
duplicated = tags acknowledged more than once, in order = per conversation the tags come back
increasing. The database is checked against the same figures.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from channels.simulators.webhooks import new_wamid
from scripts.bench import db
from scripts.bench.common import Deadline, TimedOut, loadgen, text_of, wait_until
from scripts.bench.cpu import CpuMeter
from scripts.bench.stack import APP_SECRET, Stack

TAG = re.compile(r"#(\d+)\.(\d+)")
BURST_SIZES = (1, 1, 1, 1, 2, 2, 3, 5)  # most customers write once, some in bursts
SWEEP_RESULT = re.compile(
    r"Task switchboard\.housekeeping\.sweep\[[^\]]+\] succeeded in [\d.e-]+s: "
    r"\{'conversations': (\d+)"
)
FLUSH_RESULT = re.compile(
    r"Task switchboard\.turn\.flush\[[^\]]+\] succeeded in [\d.e-]+s: '(\w+)'"
)


def plan(messages: int, conversations: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    timestamp = int(time.time()) - 3600
    out = []
    for c in range(conversations):
        count = messages // conversations + (1 if c < messages % conversations else 0)
        wa_id = f"1560{c:07d}"
        texts = [
            {
                "wamid": new_wamid(wa_id),
                "text": f"#{c}.{i} {text_of(6, c + i)}",
                "ts": timestamp + i,
            }
            for i in range(count)
        ]
        bursts = []
        while texts:
            size = rng.choice(BURST_SIZES)
            bursts.append(texts[:size])
            texts = texts[size:]
        out.append({"wa_id": wa_id, "bursts": bursts, "messages": count})
    return {"conversations": out}


def acknowledge(stack: Stack) -> Callable[[dict[str, Any]], str]:
    """The fake LLM's answer: the tags of the burst it was given."""

    def reply(request: dict[str, Any]) -> str:
        texts = stack.gemini.user_texts(request)
        tags = TAG.findall(texts[-1]) if texts else []
        return "ack " + " ".join(f"#{c}.{i}" for c, i in tags)

    return reply


def run(
    stack: Stack,
    url: str,
    *,
    messages: int,
    conversations: int,
    concurrency: int,
    deadline: Deadline,
) -> dict[str, Any]:
    stack.reset_fakes()
    stack.gemini.default = acknowledge(stack)
    phone = stack.add_phone("soak")
    the_plan = plan(messages, conversations)
    plan_file = stack.data / "soak-plan.json"
    plan_file.write_text(json.dumps(the_plan))
    log_offset = log_size(stack.data / "worker.log")
    rss_before = stack.worker_rss()
    meter = CpuMeter(stack.component_pids())
    meter.start()
    started = time.time()
    posted = loadgen(
        "soak",
        {
            "url": f"{url}/webhook",
            "plan": str(plan_file),
            "concurrency": concurrency,
            "phone_number_id": phone["phone_number_id"],
            "secret": APP_SECRET,
        },
        deadline,
        stack,
    )
    timed_out = None
    try:
        _wait_answered(stack, phone["id"], posted["posted"], deadline)
    except TimedOut as exc:
        timed_out = str(exc)
    cpu = meter.stop({"load generator": posted.pop("cpu_seconds", 0.0)})
    rss_after = stack.worker_rss()
    result = verify(stack, phone["id"], the_plan, posted)
    sends = [at for _, at in _sent(stack)]
    finished = max(sends) if sends else time.time()
    turns = len(db.turns(phone["id"]))
    return {
        **result,
        "timed_out": timed_out,
        "messages": messages,
        "conversations": conversations,
        "bursts": sum(len(c["bursts"]) for c in the_plan["conversations"]),
        "concurrency": concurrency,
        "posting": posted,
        "seconds": finished - started,
        "ingest_messages_per_second": _rate(posted["posted"], posted),
        "messages_per_second": (messages - result["lost"]) / (finished - started),
        "turns": turns,
        "turns_per_second": turns / (finished - started),
        "worker_rss_before": rss_before,
        "worker_rss_after": rss_after,
        "flush_tasks": flush_outcomes(stack.data / "worker.log", log_offset),
        "cpu": cpu,
    }


def _rate(count: int, posted: dict[str, Any]) -> float | None:
    span = (posted.get("last_post") or 0) - (posted.get("first_post") or 0)
    return count / span if span > 0 else None


def _sent(stack: Stack) -> list[tuple[dict[str, Any], float]]:
    with stack.graph.lock:
        return list(zip(stack.graph.sent, stack.graph.sent_at, strict=True))


def _wait_answered(stack: Stack, phone: int, posted: int, deadline: Deadline) -> None:
    last_report = [time.monotonic()]

    def done() -> bool:
        now = db.progress(phone)
        if time.monotonic() - last_report[0] > 15:
            last_report[0] = time.monotonic()
            print(f"  soak: {now}", file=sys.stderr, flush=True)
        return (
            now["inbound"] >= posted
            and now["pending"] == 0
            and now["open_turns"] == 0
            and now["unresolved"] == 0
        )

    wait_until(
        done,
        deadline,
        what="waiting for every soak message to be answered",
        progress=lambda: len(stack.graph.sent),
        interval=0.5,
    )


def verify(stack: Stack, phone: int, the_plan: dict[str, Any], posted: dict[str, Any]) -> dict:
    """Every message answered once, in order, by the replies the Graph API received."""
    expected = {str(c): conv["messages"] for c, conv in enumerate(the_plan["conversations"])}
    seen: dict[str, list[int]] = defaultdict(list)
    untagged = 0
    for body, _ in _sent(stack):
        tags = TAG.findall(body.get("text", {}).get("body", ""))
        untagged += not tags
        for conversation, index in tags:
            seen[conversation].append(int(index))
    lost = duplicated = out_of_order = 0
    for conversation, count in expected.items():
        acked = seen.get(conversation, [])
        counts = Counter(acked)
        lost += sum(1 for i in range(count) if i not in counts)
        duplicated += sum(n - 1 for n in counts.values() if n > 1)
        out_of_order += any(b <= a for a, b in zip(acked, acked[1:], strict=False))
    return {
        "lost": lost,
        "duplicated_replies": duplicated,
        "conversations_out_of_order": out_of_order,
        "in_order": out_of_order == 0,
        "replies_without_tags": untagged,
        "replies_received": len(_sent(stack)),
        "post_failures": len(posted["failed"]),
        "database": _database_check(stack, phone),
    }


def _database_check(stack: Stack, phone: int) -> dict[str, Any]:
    """The record agrees: each inbound message in a finished turn, each reply accepted once."""
    inbound = db.messages(phone, "in")
    outbound = db.messages(phone, "out")
    turns = {t["id"]: t for t in db.turns(phone)}
    wamids = Counter(m["wamid"] for m in outbound if m["wamid"])
    sent_wamids = Counter(body["_wamid"] for body, _ in _sent(stack))
    replied_turns = {m["turn_id"] for m in outbound if m["status"] == "accepted"}
    return {
        "inbound": len(inbound),
        "inbound_without_turn": sum(1 for m in inbound if m["turn_id"] is None),
        "inbound_in_unanswered_turn": sum(
            1 for m in inbound if m["turn_id"] is not None and m["turn_id"] not in replied_turns
        ),
        "turns": len(turns),
        "turn_outcomes": dict(Counter(t["outcome"] for t in turns.values())),
        "turns_redone": sum(1 for t in turns.values() if (t["attempts"] or 0) > 1),
        "outbound": len(outbound),
        "outbound_by_status": dict(Counter(m["status"] for m in outbound)),
        "sent_but_not_recorded": sum((sent_wamids - wamids).values()),
    }


def log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def flush_outcomes(path: Path, offset: int) -> dict[str, int]:
    """What the flush tasks of the soak returned, from the worker's log (replied, waiting,
    busy, idle...), and how many the sweeper scheduled: how much scheduling work each turn
    took."""
    if not path.exists():
        return {}
    with path.open("rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    outcomes = dict(Counter(FLUSH_RESULT.findall(text)))
    outcomes["scheduled_by_sweeper"] = sum(int(n) for n in SWEEP_RESULT.findall(text))
    return outcomes
