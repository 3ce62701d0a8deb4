"""The fault soak's verdict, from PostgreSQL and what the fake Graph API received.

- lost: an inbound message not answered by a finished turn whose reply reached the Graph
  API (each send names its outbox row in `biz_opaque_callback_data`), or never stored;
- duplicated: an outbox row sent more than once, two rows for one (turn, part), a send the
  outbox does not know, a message acknowledged by two replies;
- out of order: a conversation whose replies reached the Graph API in another order than its
  turns (and parts), or acknowledging its messages out of order;
- time to reply: the message's first delivery attempt -> the Graph API receiving the first
  part of the reply of the turn that answered it; also per kind of fault, for the messages a
  fault hit: it struck while they waited for their reply, or at most RECOVERY seconds before
  they were first posted (a restarting worker, the sweeper's next pass).

The fake LLM acknowledges the tags of its burst (scripts/bench/soak.py), so the content of
the replies is checked too (soak.verify).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from scripts.bench import db, soak
from scripts.bench.common import percentiles
from scripts.bench.fault import Injection
from scripts.bench.stack import Stack
from services.delivery.outbox import CALLBACK_PREFIX

RECOVERY = 10.0


def analyse(
    stack: Stack,
    phone: int,
    the_plan: dict[str, Any],
    posted: dict[str, Any],
    injections: list[Injection],
) -> dict[str, Any]:
    inbound = db.messages(phone, "in")
    outbound = db.messages(phone, "out")
    turns = {t["id"]: t for t in db.turns(phone)}
    arrivals, unknown_sends = _arrivals(stack, {m["id"] for m in outbound})
    replies = _reply_times(outbound, arrivals)
    lost = _lost(the_plan, inbound, turns, replies)
    duplicated = _duplicated(outbound, arrivals, unknown_sends)
    out_of_order = _out_of_order(outbound, arrivals, turns)
    tags = soak.verify(stack, phone, the_plan, posted)
    latencies = _latencies(inbound, replies, posted.get("first_attempts", {}))
    return {
        "lost": lost["total"],
        "lost_detail": lost,
        "duplicated": duplicated["total"],
        "duplicated_detail": duplicated,
        "out_of_order": out_of_order["conversations"],
        "out_of_order_detail": out_of_order,
        "tags": {k: v for k, v in tags.items() if k != "database"},
        "database": tags["database"],
        "time_to_reply_s": percentiles(v for _, v in latencies),
        "time_to_reply_by_fault": _by_fault(latencies, posted, inbound, injections),
        "recovery_window_s": RECOVERY,
        "slowest": _slowest(latencies, inbound, turns),
        "turns": len(turns),
        "turn_outcomes": dict(Counter(t["outcome"] for t in turns.values())),
        "turns_redone": sum(1 for t in turns.values() if (t["attempts"] or 0) > 1),
        "turn_attempts": dict(Counter(t["attempts"] for t in turns.values())),
        "replies_received": sum(len(v) for v in arrivals.values()),
        # sent again by the sweeper's reconciliation: no status came for the first attempt
        "replies_resent": sum(1 for m in outbound if (m["send_attempts"] or 0) > 1),
    }


def _arrivals(stack: Stack, rows: set[int]) -> tuple[dict[int, list[float]], int]:
    """Outbox row id -> when each send naming it reached the Graph API; and sends naming
    no row of this section."""
    with stack.graph.lock:
        sent = list(zip(stack.graph.sent, stack.graph.sent_at, strict=True))
    arrivals: dict[int, list[float]] = defaultdict(list)
    unknown = 0
    for body, at in sent:
        data = str(body.get("biz_opaque_callback_data") or "")
        row = data.removeprefix(CALLBACK_PREFIX)
        if data.startswith(CALLBACK_PREFIX) and row.isdigit() and int(row) in rows:
            arrivals[int(row)].append(at)
        else:
            unknown += 1
    return arrivals, unknown


def _reply_times(
    outbound: list[dict[str, Any]], arrivals: dict[int, list[float]]
) -> dict[int, float]:
    """Turn id -> when the first part of its reply reached the Graph API."""
    first: dict[int, float] = {}
    for row in outbound:
        times = arrivals.get(row["id"])
        if row["turn_id"] is None or not times:
            continue
        first[row["turn_id"]] = min(first.get(row["turn_id"], times[0]), min(times))
    return first


def _lost(
    the_plan: dict[str, Any],
    inbound: list[dict[str, Any]],
    turns: dict[int, dict[str, Any]],
    replies: dict[int, float],
) -> dict[str, Any]:
    planned = {m["wamid"] for c in the_plan["conversations"] for b in c["bursts"] for m in b}
    stored = Counter(m["wamid"] for m in inbound)
    reasons: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    for message in inbound:
        turn = turns.get(message["turn_id"]) if message["turn_id"] else None
        if turn is None:
            reason = "no turn"
        elif turn["finished_at"] is None:
            reason = "turn still open"
        elif turn["outcome"] == "abandoned":
            reason = "turn abandoned (holding message)"
        elif turn["id"] not in replies:
            reason = f"turn finished ({turn['outcome']}) without a reply at the Graph API"
        else:
            continue
        reasons[reason] += 1
        if len(examples) < 10:
            examples.append({"message_id": message["id"], "turn_id": message["turn_id"],
                             "wamid": message["wamid"], "reason": reason})  # fmt: skip
    never_stored = len(planned - set(stored))
    reasons["never stored"] += never_stored
    return {
        "total": sum(reasons.values()),
        "reasons": {k: v for k, v in reasons.items() if v},
        "stored_twice": sum(n - 1 for n in stored.values() if n > 1),
        "examples": examples,
    }


def _duplicated(
    outbound: list[dict[str, Any]], arrivals: dict[int, list[float]], unknown_sends: int
) -> dict[str, Any]:
    sent_twice = {row: len(times) for row, times in arrivals.items() if len(times) > 1}
    parts = Counter((m["turn_id"], m["seq"]) for m in outbound if m["turn_id"] is not None)
    rows_twice = sum(n - 1 for n in parts.values() if n > 1)
    return {
        "total": sum(n - 1 for n in sent_twice.values()) + rows_twice + unknown_sends,
        "outbox_rows_sent_twice": sent_twice,
        "turn_parts_written_twice": rows_twice,
        "sends_not_in_outbox": unknown_sends,
    }


def _out_of_order(
    outbound: list[dict[str, Any]],
    arrivals: dict[int, list[float]],
    turns: dict[int, dict[str, Any]],
) -> dict[str, Any]:
    """Per conversation, its replies in the order the Graph API first received them must be
    in (turn, part) order."""
    received: dict[int, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
    for row in outbound:
        if row["turn_id"] is not None and arrivals.get(row["id"]):
            received[row["conversation_id"]].append((min(arrivals[row["id"]]), row))
    bad = []
    for conversation, rows in sorted(received.items()):
        order = [(row["turn_id"], row["seq"]) for _, row in sorted(rows, key=lambda r: r[0])]
        if order != sorted(order):
            bad.append(_as_received(conversation, sorted(rows, key=lambda r: r[0]), turns))
    return {"conversations": len(bad), "examples": bad[:10]}


def _as_received(
    conversation: int, rows: list[tuple[float, dict[str, Any]]], turns: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    """Evidence: the conversation's replies as the Graph API received them."""
    first = rows[0][0]
    return {
        "conversation_id": conversation,
        "replies": [
            {
                "at_s": round(at - first, 2),
                "turn_id": row["turn_id"],
                "outbox_id": row["id"],
                "send_attempts": row["send_attempts"],
                "turn_outcome": turns.get(row["turn_id"], {}).get("outcome"),
                "turn_attempts": turns.get(row["turn_id"], {}).get("attempts"),
                "text": (row["text"] or "")[:60],
            }
            for at, row in rows
        ],
    }


def _latencies(
    inbound: list[dict[str, Any]], replies: dict[int, float], first_attempts: dict[str, float]
) -> list[tuple[int, float]]:
    """(message id, seconds from its first delivery attempt to its reply)."""
    out = []
    for message in inbound:
        started = first_attempts.get(message["wamid"])
        replied = replies.get(message["turn_id"]) if message["turn_id"] else None
        if started is not None and replied is not None:
            out.append((message["id"], replied - started))
    return out


def _by_fault(
    latencies: list[tuple[int, float]],
    posted: dict[str, Any],
    inbound: list[dict[str, Any]],
    injections: list[Injection],
) -> dict[str, Any]:
    """Time to reply of the messages each kind of fault hit; "none" for the others."""
    first_attempts = posted.get("first_attempts", {})
    by_id = {m["id"]: m for m in inbound}
    buckets: dict[str, list[float]] = defaultdict(list)
    for message_id, seconds in latencies:
        started = first_attempts[by_id[message_id]["wamid"]]
        kinds = {
            i.kind
            for i in injections
            if i.took_effect and started - RECOVERY <= i.at <= started + seconds
        }
        for kind in kinds or {"none"}:
            buckets[kind].append(seconds)
    return {kind: percentiles(values) for kind, values in sorted(buckets.items())}


def _slowest(
    latencies: list[tuple[int, float]],
    inbound: list[dict[str, Any]],
    turns: dict[int, dict[str, Any]],
    count: int = 5,
) -> list[dict[str, Any]]:
    by_id = {m["id"]: m for m in inbound}
    out = []
    for message_id, seconds in sorted(latencies, key=lambda x: -x[1])[:count]:
        message = by_id[message_id]
        turn = turns.get(message["turn_id"]) or {}
        out.append({"message_id": message_id, "seconds": round(seconds, 2),
                    "turn_id": message["turn_id"], "turn_attempts": turn.get("attempts"),
                    "turn_outcome": turn.get("outcome")})  # fmt: skip
    return out
