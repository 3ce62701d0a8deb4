"""Scenarios: several turns of a customer (and the merchant's staff answering over WhatsApp),
each run k times on fresh conversations and scored on the final database state and on
what WhatsApp delivered. pass^k: the share of scenarios that passed in all k runs.

Replay (no key) feeds recorded model answers (evals/recordings/scenarios.json) to the real
graph; `--live` runs the configured model against the same scripted customer.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from sqlalchemy import func, select

from evals import recording, report, stack
from evals.observe import language_of
from evals.scenario_cases import SCENARIOS, Expect, Scenario

SUITE = "scenarios"
_CUSTOMER_BASE = 447_000_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    report.add_common_arguments(parser)
    parser.add_argument("-k", type=int, default=3, help="runs of each scenario (pass^k)")


def run(args: argparse.Namespace) -> int:
    scenarios = [s for s in SCENARIOS if not args.case or s.id in args.case]
    recordings = recording.load(SUITE)
    results = []
    started = time.monotonic()
    with stack.started(live=args.live, database_url=args.database_url) as running:
        for index, scenario in enumerate(scenarios):
            runs = [
                run_scenario(running, scenario, recordings.get(scenario.id, {}), index * 10 + k)
                for k in range(args.k)
            ]
            results.append(_result(scenario, runs))
    if args.record and args.live:
        kept = {r["id"]: r.pop("recording") for r in results if r.get("recording")}
        recording.save(SUITE, {**recordings, **kept})
    for result in results:
        result.pop("recording", None)
    summary = {
        "scenarios": len(results),
        "k": args.k,
        "pass_hat_k": report.ratio(sum(1 for r in results if r["passed"]), len(results)),
        "runs_passed": report.ratio(sum(r["runs_passed"] for r in results), len(results) * args.k),
    }
    return report.finish(SUITE, args, results, summary, time.monotonic() - started)


def _result(scenario: Scenario, runs: list[dict[str, Any]]) -> dict[str, Any]:
    failures = sorted({f for r in runs for f in r["failures"]})
    return {
        "id": scenario.id,
        "merchant": scenario.merchant,
        "point": 0,
        "about": scenario.about,
        "passed": all(not r["failures"] for r in runs),
        "runs_passed": sum(1 for r in runs if not r["failures"]),
        "failures": failures,
        "last_run": runs[-1]["state"],
        "recording": runs[-1].get("recording"),
        **({"error": runs[-1]["error"]} if runs[-1].get("error") else {}),
    }


def run_scenario(
    running: stack.Stack, scenario: Scenario, recorded: dict[str, Any], number: int
) -> dict[str, Any]:
    try:
        state = _play(running, scenario, recorded, number)
    except Exception as exc:  # the code under test cannot run it: say why
        return {"failures": ["did not run"], "state": {}, "error": f"{type(exc).__name__}: {exc}"}
    steps = state.pop("steps")
    recorded = {"steps": steps, "structured": recorded.get("structured", {})}
    return {"failures": check(scenario.expect, state), "state": state, "recording": recorded}


def _play(
    running: stack.Stack, scenario: Scenario, recorded: dict[str, Any], number: int
) -> dict[str, Any]:
    stack.configure(**scenario.settings)
    shop = running.shops[scenario.merchant]
    member = shop.merchant.staff[0]
    wa_id = str(_CUSTOMER_BASE + number)
    steps = recorded.get("steps", [])
    if running.replay is not None:
        if len(steps) < len(scenario.script):
            raise LookupError(f"no recording for {scenario.id}")
        running.replay.start_case(recorded.get("structured", {}))
    staff_before = len(stack.received(running.graph, member.wa_id))
    documents_before = _newest_document()
    conversation_id = 0
    live: list[list[dict[str, Any]]] = []
    for index, say in enumerate(scenario.script):
        if running.replay is not None:
            running.replay.queue(steps[index], notification=_newest_notification(shop.merchant_id))
        sender = wa_id if say.who == "customer" else member.wa_id
        name = scenario.customer_name if say.who == "customer" else member.name
        talking = stack.store_customer_text(shop, sender, say.text, name=name)
        conversation_id = talking if say.who == "customer" else conversation_id
        running.run_turn(talking)
        running.drain()
        if running.replay is None:
            live.append(stack.live_steps(talking))
    seen = (wa_id, member.wa_id, staff_before, documents_before)
    return {**_state(running, shop, conversation_id, seen), "steps": live or steps}


def _newest_notification(merchant_id: int) -> str:
    from persistence.db import session_scope
    from persistence.models import Notification

    with session_scope() as session:
        newest = session.scalar(
            select(Notification.id)
            .where(Notification.merchant_id == merchant_id)
            .order_by(Notification.id.desc())
            .limit(1)
        )
    return f"NOTIF_{newest}" if newest else ""


def _newest_document() -> int:
    from persistence.db import session_scope
    from persistence.models import Document

    with session_scope() as session:
        return int(session.scalar(select(func.max(Document.id))) or 0)


def _state(
    running: stack.Stack, shop: stack.Shop, conversation_id: int, seen: tuple[str, str, int, int]
) -> dict[str, Any]:
    """The conversation's state, what both sides received, the documents made meanwhile
    (from answers: the only way a scenario adds documents)."""
    from persistence.db import session_scope
    from persistence.models import Conversation, Document, Notification

    wa_id, staff_wa_id, staff_before, documents_before = seen
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        notifications = session.scalars(
            select(Notification).where(Notification.conversation_id == conversation_id)
        ).all()
        documents = session.scalars(
            select(Document).where(
                Document.merchant_id == shop.merchant_id, Document.id > documents_before
            )
        ).all()
        return {
            "mode": str(conversation.mode),
            "needs_human": bool(conversation.needs_human),
            "questions": sum(1 for n in notifications if n.type == "user_question_request"),
            "support_requests": sum(1 for n in notifications if n.type == "user_support_request"),
            "answered": sum(1 for n in notifications if n.answer is not None),
            "customer_received": stack.received(running.graph, wa_id),
            "staff_received": stack.received(running.graph, staff_wa_id)[staff_before:],
            "documents": [
                {"status": str(d.status), "title": d.title, "content": d.content}
                for d in documents
            ],
        }  # fmt: skip


def check(expect: Expect, state: dict[str, Any]) -> list[str]:
    failures = []
    for name in ("questions", "answered", "support_requests", "needs_human", "mode"):
        want = getattr(expect, name)
        if want is not None and state[name] != want:
            failures.append(f"{name} {state[name]}, want {want}")
    received, staff = "\n".join(state["customer_received"]), "\n".join(state["staff_received"])
    if not state["customer_received"]:
        failures.append("the customer received nothing")
    failures += [f"customer did not get {t!r}" for t in expect.customer_has if t not in received]
    failures += [f"staff did not get {t!r}" for t in expect.staff_has if t not in staff]
    if expect.staff_messages is not None and len(state["staff_received"]) != expect.staff_messages:
        failures.append(f"{len(state['staff_received'])} messages to staff, "
                        f"want {expect.staff_messages}")  # fmt: skip
    if expect.customer_language:
        for text in state["customer_received"]:
            language = language_of(text)
            if language and language != expect.customer_language:
                failures.append(f"customer got {language}: {text[:60]!r}")
    drafts = state["documents"]
    if expect.drafts is not None and len(drafts) != expect.drafts:
        failures.append(f"{len(drafts)} documents from answers, want {expect.drafts}")
    if any(d["status"] != "draft" for d in drafts):
        failures.append("a document from an answer was published without review")
    for d in state["documents"]:
        text = d["title"] + " " + d["content"]
        failures += [f"document has {t!r}" for t in expect.documents_lack if t in text]
        if d["status"] == "published":
            failures += [f"published: {t!r}" for t in expect.published_lack if t in text]
    return failures
