"""Single turns: for each case of evals/turn_cases.py, the real graph runs the customer's
burst (after the case's earlier bursts and team notes) and the turn is scored on what it
did: the tools it called, what it was shown, the rows it wrote and what WhatsApp was asked
to deliver.

Without a key the model's answers are replayed from evals/recordings/turns.json, so a
change to the prompt, the tools or the turn's code is measured against fixed answers.
`--live` runs the configured model instead (and `--record` keeps its answers).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from evals import judge, observe, recording, report, stack
from evals.observe import Observed
from evals.turn_cases import CASES, TurnCase

SUITE = "turns"
_CUSTOMER_BASE = 346_1000_0000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    report.add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    cases = [c for c in CASES if not args.case or c.id in args.case]
    recordings = recording.load(SUITE)
    results = []
    started = time.monotonic()
    with stack.started(live=args.live, database_url=args.database_url) as running:
        for index, case in enumerate(cases):
            results.append(run_case(running, case, recordings.get(case.id, {}), index))
    if args.record and args.live:
        recording.save(SUITE, {**recordings, **{r["id"]: r["recording"] for r in results}})
    for result in results:
        result.pop("recording", None)
    summary = report.turn_figures(results)
    return report.finish(SUITE, args, results, summary, time.monotonic() - started)


def run_case(
    running: stack.Stack, case: TurnCase, recorded: dict[str, Any], index: int
) -> dict[str, Any]:
    """Run one case; its checks, figures and (live) the model's answers as a recording."""
    try:
        observed, steps = _play(running, case, recorded, index)
    except Exception as exc:  # a case the code under test cannot run: say why, go on
        return {**case.as_json(), "passed": False, "error": f"{type(exc).__name__}: {exc}"[:300],
                "failures": ["did not run"], "recording": recorded}  # fmt: skip
    failures = check(case, observed)
    verdict = {}
    if observed.live and observed.sent and judge.judge_provider():
        sources = [shop_facts(running, case), *case.notes, *observed.tool_outputs]
        verdict = {"judge": judge.judge(customer=list(case.burst), sources=sources,
                                        reply=observed.reply)}  # fmt: skip
    return {
        **verdict,
        **case.as_json(),
        "passed": not failures,
        "failures": failures,
        "observed": _summary(observed),
        "recording": {"steps": steps, "structured": recorded.get("structured", {})},
    }


def _play(
    running: stack.Stack, case: TurnCase, recorded: dict[str, Any], index: int
) -> tuple[Observed, list[list[dict[str, Any]]]]:
    stack.configure(**case.settings)
    shop = running.shops[case.merchant]
    wa_id = str(_CUSTOMER_BASE + index)
    replay = running.replay
    steps: list[list[dict[str, Any]]] = list(recorded.get("steps", []))
    if replay is not None:
        replay.start_case(recorded.get("structured", {}))
    bursts = [*case.history, case.burst]
    if replay is not None and len(steps) < len(bursts):
        raise LookupError(f"no recording for {case.id} ({len(steps)} of {len(bursts)} steps)")
    conversation_id = 0
    observed = Observed()
    for number, burst in enumerate(bursts):
        last = number == len(bursts) - 1
        if last:
            for note in case.notes:
                stack.add_note(conversation_id or _open(shop, wa_id, case), note)
        if replay is not None:
            replay.queue(steps[number])
        sent_before = len(stack.received(running.graph, wa_id))
        for text in burst:
            conversation_id = stack.store_customer_text(
                shop, wa_id, text, name=case.customer_name, graph=running.graph
            )
        began = time.monotonic()
        observed.status = running.run_turn(conversation_id)
        running.drain()
        observed.seconds = time.monotonic() - began
        observed.sent = stack.received(running.graph, wa_id)[sent_before:]
        if replay is None:
            steps = [*steps[:number], stack.live_steps(conversation_id)]
    if replay is not None:
        observe.model_side(observed, replay.simulator, replay.requests(), replay.answered())
        observed.exhausted = recording.EXHAUSTED in observed.reply
    else:  # the real API's requests are not seen: calls from the graph's state only
        observed.calls = [step for step in steps[-1] if "tool" in step]
        observed.tool_outputs = stack.live_tool_outputs(conversation_id)
        observed.tokens = stack.live_tokens(conversation_id)
        observed.live = True
    observe.database_side(observed, conversation_id)
    return observed, steps


def shop_facts(running: stack.Stack, case: TurnCase) -> str:
    m = running.shops[case.merchant].merchant
    return f"{m.name}: {m.description}"


def _open(shop: stack.Shop, wa_id: str, case: TurnCase) -> int:
    """A conversation for notes written before the customer's first message: the greeting
    is stored, its turn comes with the burst."""
    return stack.store_customer_text(shop, wa_id, "hola", name=case.customer_name)


def check(case: TurnCase, seen: Observed) -> list[str]:
    """What the turn got wrong; empty when it did everything the case asks."""
    failures = _check_calls(case, seen) + _check_texts(case, seen)
    outcome = outcome_of(seen)
    expected = case.outcome if case.outcome in ("ask_team", "hand_over") else "answer"
    if outcome != expected:
        failures.append(f"outcome {outcome}, want {case.outcome}")
    if case.outcome == "clarify" and "?" not in seen.reply:
        failures.append("no question asked back")
    if not seen.sent:
        failures.append("nothing sent to the customer")
    if case.open_questions is not None and len(seen.questions) != case.open_questions:
        failures.append(f"{len(seen.questions)} questions for the team, want {case.open_questions}")
    if case.customer_language and seen.customer_language != case.customer_language:
        failures.append(f"language {seen.customer_language}, want {case.customer_language}")
    language = observe.language_of(seen.reply)
    if language and language != case.language:
        failures.append(f"reply in {language}, want {case.language}")
    failures += observe.format_problems(seen.sent)
    if case.thinking_budget is not None and any(b != case.thinking_budget for b in seen.thinking):
        failures.append(f"thinking budgets {seen.thinking}, want {case.thinking_budget}")
    if case.max_seconds is not None and seen.seconds > case.max_seconds:
        failures.append(f"took {seen.seconds:.1f} s, limit {case.max_seconds}")
    if seen.exhausted:
        failures.append("the model was asked more often than recorded")
    return failures


def outcome_of(seen: Observed) -> str:
    if seen.needs_human or seen.support_requests:
        return "hand_over"
    if seen.questions:
        return "ask_team"
    return "answer"


def _check_calls(case: TurnCase, seen: Observed) -> list[str]:
    failures = []
    for call in case.must_call:
        if not any(_matches(call.name, call.args, made) for made in seen.calls):
            failures.append(f"no call {call.name}({call.args})")
    called = {made["tool"] for made in seen.calls}
    failures += [f"called {name}" for name in case.must_not_call if name in called]
    return failures


def _matches(name: str, args: dict[str, str], made: dict[str, Any]) -> bool:
    if made["tool"] != name:
        return False
    text = str(made.get("args", {})).lower()
    return all(str(value).lower() in text for value in args.values())


def _check_texts(case: TurnCase, seen: Observed) -> list[str]:
    prompts, systems = "\n".join(seen.prompts), "\n".join(seen.systems)
    outputs = "\n".join(seen.tool_outputs)
    reply = seen.reply.lower()
    failures = [f"reply lacks {t!r}" for t in case.reply_has if t.lower() not in reply]
    failures += [f"reply has {t!r}" for t in case.reply_lacks if t.lower() in reply]
    if seen.live:
        return failures
    failures += [f"model not shown {t!r}" for t in case.prompt_has if t not in prompts]
    failures += [f"not a team note: {t!r}" for t in case.system_has if t not in systems]
    failures += [f"system prompt has {t!r}" for t in case.system_lacks if t in systems]
    failures += [f"tools did not find {t!r}" for t in case.tool_output_has if t not in outputs]
    return failures


def _summary(seen: Observed) -> dict[str, Any]:
    return {
        "status": seen.status,
        "outcome": outcome_of(seen),
        "sent": seen.sent,
        "calls": seen.calls,
        "questions": seen.questions,
        "needs_human": seen.needs_human,
        "customer_language": seen.customer_language,
        "reply_language": observe.language_of(seen.reply),
        "format_problems": observe.format_problems(seen.sent),
        "duplicates": observe.duplicates(seen.sent),
        "seconds": round(seen.seconds, 2),
        "tokens": seen.tokens,
        "model_requests": len(seen.prompts),
    }
