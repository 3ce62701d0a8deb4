"""`scripts/bench.py --quick` runs end to end and writes its report. No timing is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

# Settings the benchmark must not inherit from this test session (it starts its own servers).
INHERITED = ("DATABASE_URL", "REDIS_URL", "DATA_DIR", "WHATSAPP_API_BASE_URL", "GEMINI_BASE_URL")


def test_quick_benchmark_writes_its_table(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in INHERITED}
    bench = subprocess.Popen(
        [sys.executable, "scripts/bench.py", "--quick", "--only", "ingest,burst",
         "--out", str(tmp_path)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        stdout, stderr = bench.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        bench.terminate()  # it stops the servers and workers it started, then exits
        stdout, stderr = bench.communicate(timeout=60)
        pytest.fail(f"bench.py --quick took over 120 s:\n{stderr[-4000:]}")
    assert bench.returncode == 0, stderr[-4000:]
    report = json.loads((tmp_path / "latest-quick.json").read_text())
    assert {"meta", "table", "results"} <= report.keys()
    assert report["meta"]["git"]["commit"]
    ingest = report["results"]["ingest"]
    assert {"switchboard", "trivial", "ratio"} <= ingest.keys()
    assert ingest["switchboard"]["errors"] == ingest["switchboard"]["non_200"] == 0
    bursts = report["results"]["burst"]["by_size"]
    assert set(bursts) == {"1", "3", "10"}
    assert all(b["replies"] >= 1 for b in bursts.values())
    assert [row["section"] for row in report["table"]][:3] == ["ingest"] * 3
    assert "| ingest |" in (tmp_path / "latest-quick.md").read_text()
    assert "ratio Switchboard / trivial" in stdout
