"""Turn overhead, burst aggregation, and the growth of one long conversation (prompt size and
checkpoint storage), all through the real webhook, buffer, worker and graph."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx

from channels.simulators.llm import estimate_tokens
from channels.simulators.webhooks import text_message_payload
from scripts.bench import db
from scripts.bench.common import Deadline, percentiles, post_all, text_of, wait_until
from scripts.bench.cpu import CpuMeter
from scripts.bench.stack import Stack

TAG = re.compile(r"\[(\d+)\]")


def _payload(phone: dict, wa_id: str, text: str, timestamp: int) -> dict[str, Any]:
    return text_message_payload(
        phone_number_id=phone["phone_number_id"], wa_id=wa_id, text=text, timestamp=timestamp
    )


def settled(phone: int) -> bool:
    """Nothing waits for a turn, no turn is open, every reply has an outcome."""
    now = db.progress(phone)
    return now["pending"] == 0 and now["open_turns"] == 0 and now["unresolved"] == 0


def _sends(stack: Stack) -> list[tuple[dict[str, Any], float]]:
    with stack.graph.lock:
        return list(zip(stack.graph.sent, stack.graph.sent_at, strict=True))


def _llm_requests(stack: Stack) -> list[tuple[dict[str, Any], float]]:
    with stack.gemini.lock:
        return list(zip(stack.gemini.requests, stack.gemini.request_times, strict=True))


def warm_up(stack: Stack, url: str, *, conversations: int, deadline: Deadline) -> None:
    """Turns through fresh worker processes first: each builds its graph, LLM client and
    connection pools on its first turn, which is not what the figures are about."""
    stack.reset_fakes()
    phone = stack.add_phone("warmup")
    timestamp = int(time.time()) - 3600
    payloads = [[_payload(phone, f"1561{i:07d}", "hello", timestamp)] for i in range(conversations)]
    post_all(stack, url, payloads)
    wait_until(
        lambda: len(stack.graph.sent) >= conversations,
        deadline,
        what="warming up the workers",
        progress=lambda: len(stack.graph.sent),
    )
    wait_until(lambda: settled(phone["id"]), deadline, what="letting the warm-up settle")


# --- turn overhead ----------------------------------------------------------------------


def turn_overhead(
    stack: Stack, url: str, *, conversations: int, workers: int, deadline: Deadline
) -> dict[str, Any]:
    """One message to each of many conversations at once: the worker is saturated, and each
    turn is timed from its start (turns.started_at) to the fake Graph API receiving its reply."""
    stack.reset_fakes()
    phone = stack.add_phone("turn")
    wa_ids = [f"1557{i:07d}" for i in range(conversations)]
    timestamp = int(time.time()) - 3600
    payloads = [
        [_payload(phone, wa_id, f"[{wa_id}] {text_of(20, i)}", timestamp)]
        for i, wa_id in enumerate(wa_ids)
    ]
    meter = CpuMeter(stack.component_pids())
    meter.start()
    post_all(stack, url, payloads)
    wait_until(
        lambda: len(stack.graph.sent) >= conversations,
        deadline,
        what="waiting for the turn section's replies",
        progress=lambda: len(stack.graph.sent),
    )
    wait_until(lambda: settled(phone["id"]), deadline, what="letting the turns finish")
    cpu = meter.stop()
    return _turn_figures(stack, phone["id"], conversations=conversations, workers=workers, cpu=cpu)


def _turn_figures(
    stack: Stack, phone: int, *, conversations: int, workers: int, cpu: dict
) -> dict[str, Any]:
    by_wa = db.conversations(phone)
    started = {t["conversation_id"]: db.epoch(t["started_at"]) for t in db.turns(phone)}
    sent_at: dict[int, float] = {}
    for body, at in _sends(stack):
        if body.get("to") in by_wa:
            sent_at.setdefault(by_wa[body["to"]], at)
    asked_at: dict[int, float] = {}
    for request, at in _llm_requests(stack):
        tags = TAG.findall(stack.gemini.user_texts(request)[-1])
        if tags and tags[0] in by_wa:
            asked_at.setdefault(by_wa[tags[0]], at)
    ids = [c for c in started if c in sent_at]
    flush_to_send = [sent_at[c] - started[c] for c in ids]
    flush_to_llm = [asked_at[c] - started[c] for c in ids if c in asked_at]
    llm_to_send = [sent_at[c] - asked_at[c] for c in ids if c in asked_at]
    wall = max(sent_at.values()) - min(started.values())
    return {
        "conversations": conversations,
        "turns": len(started),
        "replied": len(ids),
        "workers": workers,
        "wall_seconds": wall,
        "turns_per_second": len(ids) / wall,
        "turns_per_second_per_worker": len(ids) / wall / workers,
        "flush_to_send_ms": percentiles(flush_to_send, 1000),
        "flush_to_llm_ms": percentiles(flush_to_llm, 1000),
        "llm_to_send_ms": percentiles(llm_to_send, 1000),
        "cpu": cpu,
    }


# --- burst aggregation ------------------------------------------------------------------


def bursts(
    stack: Stack, url: str, *, sizes: tuple[int, ...], conversations: int, deadline: Deadline
) -> dict[str, Any]:
    """k messages to fresh conversations within one window: how many LLM calls and replies."""
    phone = stack.add_phone("burst")
    out: dict[str, Any] = {"conversations_per_size": conversations, "by_size": {}}
    for k in sizes:
        stack.reset_fakes()
        wa_ids = [f"1558{k:02d}{i:05d}" for i in range(conversations)]
        timestamp = int(time.time()) - 3600
        payloads = [
            [
                _payload(phone, wa_id, f"part {j + 1} of {k}: {text_of(8, j)}", timestamp + j)
                for j in range(k)
            ]
            for wa_id in wa_ids
        ]
        started = time.monotonic()
        post_all(stack, url, payloads, threads=min(16, conversations))
        posting = time.monotonic() - started
        wait_until(
            lambda ids=wa_ids: all(stack.graph.texts_to(w) for w in ids),
            deadline,
            what=f"waiting for replies to bursts of {k}",
            progress=lambda: len(stack.graph.sent),
        )
        wait_until(lambda: settled(phone["id"]), deadline, what="letting the bursts settle")
        by_wa = db.conversations(phone["id"])
        mine = {by_wa[w] for w in wa_ids}
        turns = [t for t in db.turns(phone["id"]) if t["conversation_id"] in mine]
        out["by_size"][str(k)] = {
            "bursts": conversations,
            "messages": conversations * k,
            "posting_seconds": posting,
            "llm_calls": len(stack.gemini.requests),
            "replies": len(stack.graph.sent),
            "turns": len(turns),
            "llm_calls_per_burst": len(stack.gemini.requests) / conversations,
            "replies_per_burst": len(stack.graph.sent) / conversations,
        }
    return out


# --- one long conversation: prompt size and checkpoint storage ---------------------------


def long_conversation(
    stack: Stack, url: str, *, marks: tuple[int, ...], deadline: Deadline
) -> dict[str, Any]:
    """Drive one conversation turn after turn (send, wait for the reply) and read the LLM
    request and the thread's checkpoint rows at the marks."""
    stack.reset_fakes()
    phone = stack.add_phone("prompt")
    wa_id = "15590000001"
    timestamp = int(time.time()) - 3600
    at: dict[str, Any] = {}
    meter = CpuMeter(stack.component_pids())
    meter.start()
    with httpx.Client(timeout=30) as client:
        for n in range(1, max(marks) + 1):
            text = f"({n}) {text_of(30, n)}"
            stack.post(client, url, _payload(phone, wa_id, text, timestamp + n))
            wait_until(
                lambda n=n: len(stack.graph.sent) >= n,
                deadline,
                what=f"waiting for reply {n} of the long conversation",
                progress=lambda: len(stack.graph.sent),
                stall=60,
                interval=0.005,
            )
            if n in marks:
                wait_until(lambda: settled(phone["id"]), deadline, what="letting turn finish")
                at[str(n)] = _mark(stack, db.conversations(phone["id"])[wa_id])
    cpu = meter.stop()
    latencies = sequential_latencies(stack, phone["id"])
    return {
        "marks": list(marks),
        "at": at,
        "turn_ms": percentiles(latencies, 1000),
        "turn_ms_at": {str(m): latencies[m - 1] * 1000 for m in marks if m <= len(latencies)},
        "llm_calls": len(stack.gemini.requests),
        "table_sizes": db.table_sizes(),
        "cpu": cpu,
    }


def _mark(stack: Stack, conversation_id: int) -> dict[str, Any]:
    request = stack.gemini.requests[-1]
    checkpoint = db.checkpoint_bytes(str(conversation_id))
    tools = request.get("tools")
    fixed = len(stack.gemini.system_text(request)) + (len(json.dumps(tools)) if tools else 0)
    return {
        "prompt_tokens": estimate_tokens(stack.gemini.prompt_chars(request)),
        # the system prompt and tool declarations; the history budget comes on top of them
        "system_and_tools_tokens": estimate_tokens(fixed),
        "request_bytes": len(json.dumps(request)),
        "contents": len(request.get("contents", [])),
        "llm_calls_so_far": len(stack.gemini.requests),
        "checkpoint": checkpoint,
        "checkpoint_bytes": sum(t["bytes"] for t in checkpoint.values()),
        "checkpoint_raw_bytes": sum(t["raw_bytes"] for t in checkpoint.values()),
    }


def sequential_latencies(stack: Stack, phone: int) -> list[float]:
    """Turn n started -> reply n received, turns being strictly one after another."""
    starts = [db.epoch(t["started_at"]) for t in db.turns(phone)]
    sends = [at for _, at in _sends(stack)]
    return [sent - start for start, sent in zip(starts, sends, strict=False) if start is not None]
