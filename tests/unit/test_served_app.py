"""The app as run_server.py serves it (api.app.create_served_app), in a process of its own:
what its start-up made is frozen out of the collector's full passes, and uvicorn finds no
handler for its own per-request access lines (api.access writes them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

_SERVED = """
import gc, json, logging
from api.app import create_served_app
create_served_app()
print(json.dumps({"frozen": gc.get_freeze_count(),
                  "uvicorn_access_lines": logging.getLogger("uvicorn.access").hasHandlers()}))
"""


def _served() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [sys.executable, "-c", _SERVED], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.splitlines()[-1])


def test_the_served_app_freezes_its_start_up_and_leaves_access_lines_to_api_access():
    served = _served()
    assert served["frozen"] > 100_000  # the modules, routes and models of the app
    assert served["uvicorn_access_lines"] is False
