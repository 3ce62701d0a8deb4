"""Retrieval: does search_knowledge_base's search find the document that answers?

For each query of the dataset (evals/retrieval_cases.py) the merchant's knowledge is
searched exactly as the tool does, and scored without a model:
- recall@3: the share of a query's relevant documents among the first 3 results;
- MRR: the mean of 1 / the rank of the first relevant document (0 when absent);
- false positives: the share of "none" queries (nothing written on it) that found anything.

Cross-language queries go through the search's query translation. With a model key
configured it is the real light model (`--translation live`); without one the LLM
simulator replays the dataset's recorded translations (`replay`), so the figures are
reproducible in CI; `off` runs without any model.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals import environment
from evals.merchants import MERCHANTS
from evals.retrieval_cases import CASES, KINDS, Case

ROOT = Path(__file__).resolve().parent.parent
K = 3


@dataclass(frozen=True)
class Outcome:
    case: Case
    found: tuple[str, ...]  # document keys, best first
    recall: float
    reciprocal_rank: float


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--translation",
        choices=("auto", "live", "replay", "off"),
        default="auto",
        help="cross-language queries: the configured model (live), recorded translations "
        "replayed by the simulator (replay), or none (off); auto: live with a key, else replay",
    )
    parser.add_argument(
        "--quick", action="store_true", help="two queries of each kind per merchant (a smoke test)"
    )
    parser.add_argument(
        "--database-url", help="a PostgreSQL to use (default: DATABASE_URL, else embedded)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--verbose", action="store_true", help="list every query's results")


def run(args: argparse.Namespace) -> int:
    import os

    cases = _quick(CASES) if args.quick else CASES
    url = args.database_url or os.environ.get("DATABASE_URL")
    with environment.database(url):
        mode = args.translation
        if mode == "auto":
            mode = "live" if environment.model_configured() else "replay"
        started = time.monotonic()
        if mode == "replay":
            with environment.replayed_model(_replay):
                outcomes = _evaluate(cases, translate=True)
        else:
            outcomes = _evaluate(cases, translate=mode == "live")
        seconds = time.monotonic() - started
    report = _report(outcomes, mode=mode, quick=args.quick, seconds=seconds)
    print(_table(report))
    if args.verbose:
        for o in outcomes:
            print(f"{o.case.kind:15} {o.reciprocal_rank:4.2f} {o.case.query!r} -> "
                  f"{list(o.found)} (want {list(o.case.relevant)})")  # fmt: skip
    stem = "evals-retrieval-latest" + ("-quick" if args.quick else "")
    _write(report, args.out, stem + ("-untranslated" if mode == "off" else ""))
    return 0


def _quick(cases: tuple[Case, ...]) -> tuple[Case, ...]:
    taken: dict[tuple[str, str], int] = {}
    chosen = []
    for case in cases:
        key = (case.merchant, case.kind)
        if taken.get(key, 0) < 2:
            taken[key] = taken.get(key, 0) + 1
            chosen.append(case)
    return tuple(chosen)


def _replay(prompt: str) -> dict[str, Any]:
    """The recorded translation of the query the prompt carries; none for queries the
    dataset records as already in the documents' language."""
    for case in CASES:
        if case.translation and case.query in prompt:
            return {"queries": [case.translation]}
    return {"queries": []}


def _evaluate(cases: tuple[Case, ...], *, translate: bool) -> list[Outcome]:
    from persistence.db import session_scope
    from services.knowledge import knowledge

    outcomes = []
    with environment.seeded(MERCHANTS) as seeded:
        for case in cases:
            merchant_id, doc_ids = seeded[case.merchant]
            keys = {doc_id: key for key, doc_id in doc_ids.items()}
            with session_scope() as session:
                passages = _search(knowledge, session, merchant_id, case.query, translate)
            found = tuple(keys.get(p.document_id, f"doc {p.document_id}") for p in passages)
            outcomes.append(_score(case, found))
    return outcomes


def _search(knowledge: Any, session: Any, merchant_id: int, query: str, translate: bool) -> Any:
    try:
        return knowledge.search(
            session, merchant_id=merchant_id, query=query, limit=K, translate=translate
        )
    except TypeError:  # a search without query translation (before it existed)
        return knowledge.search(session, merchant_id=merchant_id, query=query, limit=K)


def _score(case: Case, found: tuple[str, ...]) -> Outcome:
    top = found[:K]
    if not case.relevant:
        return Outcome(case, found, 0.0, 0.0)
    recall = len(set(case.relevant) & set(top)) / len(case.relevant)
    rank = next((i for i, key in enumerate(top, 1) if key in case.relevant), None)
    return Outcome(case, found, recall, 1 / rank if rank else 0.0)


def _figures(outcomes: list[Outcome]) -> dict[str, Any]:
    answerable = [o for o in outcomes if o.case.relevant]
    unanswerable = [o for o in outcomes if not o.case.relevant]
    figures: dict[str, Any] = {"queries": len(outcomes)}
    if answerable:
        figures["recall_at_3"] = round(sum(o.recall for o in answerable) / len(answerable), 3)
        figures["mrr"] = round(sum(o.reciprocal_rank for o in answerable) / len(answerable), 3)
    if unanswerable:
        figures["false_positive_rate"] = round(
            sum(1 for o in unanswerable if o.found) / len(unanswerable), 3
        )
    return figures


def _report(outcomes: list[Outcome], *, mode: str, quick: bool, seconds: float) -> dict[str, Any]:
    by_kind = {
        kind: _figures([o for o in outcomes if o.case.kind == kind])
        for kind in KINDS
        if any(o.case.kind == kind for o in outcomes)
    }
    return {
        "suite": "retrieval",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "translation": mode,
        "quick": quick,
        "seconds": round(seconds, 1),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "overall": _figures([o for o in outcomes if o.case.kind != "cross_language"]),
        "overall_with_cross_language": _figures(outcomes),
        "by_kind": by_kind,
        "by_merchant": {
            m.key: _figures([o for o in outcomes if o.case.merchant == m.key]) for m in MERCHANTS
        },
        "misses": [
            {**asdict(o.case), "found": list(o.found)}
            for o in outcomes
            if (o.case.relevant and o.reciprocal_rank < 1) or (not o.case.relevant and o.found)
        ],
    }


def _cell(figures: dict[str, Any], name: str) -> str:
    return f"{figures[name]:.2f}" if name in figures else "-"


def _table(report: dict[str, Any]) -> str:
    rows = [(kind, figures) for kind, figures in report["by_kind"].items()]
    rows.append(("all but cross-language", report["overall"]))
    rows.append(("all", report["overall_with_cross_language"]))
    lines = [
        f"Retrieval (translation: {report['translation']}, {report['seconds']} s)",
        "",
        "| queries | n | recall@3 | MRR | false positives |",
        "|---|---|---|---|---|",
    ]
    for name, figures in rows:
        lines.append(
            f"| {name} | {figures['queries']} | {_cell(figures, 'recall_at_3')} | "
            f"{_cell(figures, 'mrr')} | {_cell(figures, 'false_positive_rate')} |"
        )
    return "\n".join(lines)


def _write(report: dict[str, Any], out: Path, stem: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (out / f"{stem}.md").write_text(_table(report) + "\n")
    print(f"written: {out / stem}.json, .md", file=sys.stderr)
