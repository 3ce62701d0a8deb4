"""Figures without a model, and the report files of the turn and scenario suites.

- tool calls: precision (calls made that the case does not forbid, among calls of tools the
  case names) and recall (required calls made, with their arguments);
- escalations: precision and recall of "asked the team or handed over" against the cases
  that expect it;
- language match, format (no Markdown, within WhatsApp's limit), no-reply and duplicate
  rates, latency and tokens per turn (the simulator's counts), pass^k for scenarios.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ESCALATING = ("ask_team", "hand_over")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--live", action="store_true", help="the configured model, not replay")
    parser.add_argument("--record", action="store_true", help="with --live: keep its answers")
    parser.add_argument("--case", action="append", help="only this case id (repeatable)")
    parser.add_argument("--database-url", help="a PostgreSQL to use (default: embedded)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--name", help="file stem (default evals-<live|replay>-latest)")
    parser.add_argument("--label", default="", help="what code ran (kept in the report)")
    parser.add_argument("--verbose", action="store_true", help="every case's failures")


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def turn_figures(results: list[dict[str, Any]]) -> dict[str, Any]:
    from evals.turn_cases import CASES

    cases = {c.id: c for c in CASES}
    ran = [r for r in results if "observed" in r]
    required = made = wrong = calls = 0
    esc_tp = esc_fp = esc_fn = 0
    language_checked = language_ok = sent_total = duplicates = 0
    for r in ran:
        case, seen = cases[r["id"]], r["observed"]
        names = {c["tool"] for c in seen["calls"]}
        required += len(case.must_call)
        made += sum(1 for c in case.must_call if f"no call {c.name}({c.args})" not in r["failures"])
        wrong += sum(1 for name in case.must_not_call if name in names)
        calls += len({c.name for c in case.must_call} & names) + sum(
            1 for name in case.must_not_call if name in names
        )
        expected, actual = case.outcome in ESCALATING, seen["outcome"] in ESCALATING
        esc_tp += expected and actual
        esc_fp += actual and not expected
        esc_fn += expected and not actual
        if seen["reply_language"]:
            language_checked += 1
            language_ok += seen["reply_language"] == case.language
        sent_total += len(seen["sent"])
        duplicates += seen["duplicates"]
    latencies = [r["observed"]["seconds"] for r in ran]
    return {
        "cases": len(results),
        "ran": len(ran),
        "passed": sum(1 for r in results if r["passed"]),
        "pass_rate": ratio(sum(1 for r in results if r["passed"]), len(results)),
        "tool_call_precision": ratio(calls - wrong, calls),
        "tool_call_recall": ratio(made, required),
        "escalation_precision": ratio(esc_tp, esc_tp + esc_fp),
        "escalation_recall": ratio(esc_tp, esc_tp + esc_fn),
        "language_match": ratio(language_ok, language_checked),
        "format_ok": ratio(sum(1 for r in ran if not r["observed"]["format_problems"]), len(ran)),
        "no_reply_rate": ratio(sum(1 for r in ran if not r["observed"]["sent"]), len(ran)),
        "duplicate_rate": ratio(duplicates, sent_total),
        "latency_p50_s": round(statistics.median(latencies), 2) if latencies else None,
        "latency_max_s": round(max(latencies), 2) if latencies else None,
        "tokens_per_turn": round(statistics.mean(r["observed"]["tokens"] for r in ran))
        if ran
        else None,
        **_judged(results),
        "by_point": _by_point(results),
    }


def _judged(results: list[dict[str, Any]]) -> dict[str, Any]:
    verdicts = [r["judge"] for r in results if "grounded" in r.get("judge", {})]
    if not verdicts:
        return {}
    return {
        "judge_grounded": round(statistics.mean(v["grounded"] for v in verdicts), 2),
        "judge_complete": round(statistics.mean(v["complete"] for v in verdicts), 2),
    }


def _by_point(results: list[dict[str, Any]]) -> dict[str, str]:
    points: dict[str, list[bool]] = {}
    for r in results:
        points.setdefault(str(r["point"]), []).append(bool(r["passed"]))
    return {p: f"{sum(v)}/{len(v)}" for p, v in sorted(points.items(), key=lambda i: int(i[0]))}


def finish(
    suite: str, args: argparse.Namespace, results: list[dict[str, Any]],
    summary: dict[str, Any], seconds: float,
) -> int:  # fmt: skip
    """Print the table, write the JSON and Markdown files; 0 when every case passed."""
    mode = "live" if args.live else "replay"
    data = {
        "suite": suite,
        "mode": mode,
        "label": args.label,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "judge": judge_note(args.live),
        "summary": summary,
        "results": results,
    }
    text = table(data)
    print(text)
    if args.verbose:
        for r in results:
            if not r["passed"]:
                print(f"- {r['id']}: {'; '.join(r['failures'])} {r.get('error', '')}")
    stem = args.name or f"evals-{mode}-latest" + ("" if suite == "turns" else f"-{suite}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    (args.out / f"{stem}.md").write_text(text + "\n")
    print(f"written: {args.out / stem}.json, .md", file=sys.stderr)
    return 0 if all(r["passed"] for r in results) else 1


def judge_note(live: bool) -> str:
    """The LLM judge (groundedness, completeness) needs a model of another family than the
    agent's, so both keys; it is not run on replayed answers."""
    if not live:
        return "skipped: replayed answers are fixed, there is nothing to judge"
    from settings import get_settings

    settings = get_settings()
    if not (settings.google_api_key and settings.openai_api_key):
        return "skipped: a judge of another model family needs GOOGLE_API_KEY and OPENAI_API_KEY"
    from evals.judge import judge_provider

    return f"groundedness and completeness judged by {judge_provider()} (1 to 5)"


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def table(data: dict[str, Any]) -> str:
    summary = data["summary"]
    rows = [(k, v) for k, v in summary.items() if not isinstance(v, dict | list)]
    label = f", {data['label']}" if data["label"] else ""
    lines = [
        f"Evaluation `{data['suite']}` ({data['mode']}{label}, {data['seconds']} s)",
        "",
        "| figure | value |",
        "|---|---|",
        *[f"| {name} | {_cell(value)} |" for name, value in rows],
    ]
    for name, value in summary.items():
        if isinstance(value, dict):
            lines += ["", f"| {name} | passed |", "|---|---|"]
            lines += [f"| {k} | {v} |" for k, v in value.items()]
    failed = [r for r in data["results"] if not r["passed"]]
    if failed:
        lines += ["", "Failed:"]
        lines += [f"- `{r['id']}`: {'; '.join(r['failures'])[:240]}" for r in failed]
    lines += ["", f"LLM judge: {data['judge']}"]
    return "\n".join(lines)
