"""Failpoints for the fault-injection suite (tests/faults, scripts/soak_faults.py).

`FAILPOINTS="webhook.after_store=kill@/tmp/marker,delivery.after_send=kill"` makes the
process that reaches a named point die at once (SIGKILL), as a crash or an OOM kill would.
With `@path`, only the first process to create that file dies: a restarted or forked
process goes on. Unset (production), `hit` is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import time
from functools import lru_cache


@lru_cache(maxsize=1)
def _points(spec: str) -> dict[str, str]:
    points = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, action = item.partition("=")
        points[name.strip()] = action.strip() or "kill"
    return points


def hit(name: str) -> None:
    action = _points(os.environ.get("FAILPOINTS", "")).get(name)
    if action is None:
        return
    what, _, marker = action.partition("@")
    if marker:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return  # someone already died here
    if what == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif what.startswith("sleep:"):
        time.sleep(float(what.split(":", 1)[1]))
