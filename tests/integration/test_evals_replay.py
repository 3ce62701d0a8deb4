"""The evaluation suites in replay: the real graph, tools and PostgreSQL with recorded model
answers. A case that passed and now fails, or a figure below its floor, fails CI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
FLOORS = {
    "tool_call_precision": 1.0,
    "tool_call_recall": 1.0,
    "escalation_precision": 1.0,
    "escalation_recall": 1.0,
    "language_match": 1.0,
    "format_ok": 1.0,
}


def _suite(tmp_path: Path, *args: str) -> dict:
    name = f"replay-{args[0]}"
    done = subprocess.run(
        [sys.executable, "-m", "evals", *args, "--out", str(tmp_path), "--name", name],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    report = tmp_path / f"{name}.json"
    assert report.exists(), done.stderr[-3000:]
    return json.loads(report.read_text())


def test_turn_cases_pass_in_replay(tmp_path):
    report = _suite(tmp_path, "turns")
    failed = {r["id"]: r["failures"] for r in report["results"] if not r["passed"]}
    assert not failed, failed
    summary = report["summary"]
    assert summary["ran"] == summary["cases"] >= 20
    low = {k: summary[k] for k, floor in FLOORS.items() if (summary[k] or 0) < floor}
    assert not low, low
    assert summary["no_reply_rate"] == 0
    assert summary["duplicate_rate"] == 0


def test_scenarios_pass_every_run_in_replay(tmp_path):
    report = _suite(tmp_path, "scenarios", "-k", "2")
    failed = {r["id"]: r["failures"] for r in report["results"] if not r["passed"]}
    assert not failed, failed
    assert report["summary"]["pass_hat_k"] == 1.0 and report["summary"]["scenarios"] >= 5
