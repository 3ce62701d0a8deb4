"""Where the CPU went during a section: seconds per component of the stack, and the rest of
the machine ("other": everything not ours, e.g. other people's jobs on a shared box)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import psutil

Pids = Callable[[], int | None]


def tree_seconds(pid: int) -> float:
    """CPU seconds of a process and its descendants, including reaped ones (children_*)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def own_seconds() -> float:
    """This process alone (the fakes live here), not the children it started."""
    times = psutil.Process(os.getpid()).cpu_times()
    return times.user + times.system


def machine_busy() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


class CpuMeter:
    """`components` name -> function giving the root pid now (None: not running)."""

    def __init__(self, components: dict[str, Pids]) -> None:
        self.components = components
        self._start: dict[str, float] = {}
        self._wall = 0.0

    def snapshot(self) -> dict[str, float]:
        seconds = {}
        for name, pid in self.components.items():
            root = pid()
            seconds[name] = tree_seconds(root) if root else 0.0
        seconds["bench (fakes, driver)"] = own_seconds()
        seconds["_machine"] = machine_busy()
        return seconds

    def start(self) -> None:
        self._start = self.snapshot()
        self._wall = time.monotonic()

    def stop(self, extra: dict[str, float] | None = None) -> dict[str, object]:
        """CPU seconds per component since start(); `extra` adds components measured
        elsewhere (the load generator reports its own)."""
        end = self.snapshot()
        wall = time.monotonic() - self._wall
        used = {k: max(0.0, end[k] - self._start.get(k, 0.0)) for k in end if k != "_machine"}
        used.update(extra or {})
        machine = end["_machine"] - self._start.get("_machine", 0.0)
        used["other (not this benchmark)"] = max(0.0, machine - sum(used.values()))
        return {
            "wall_seconds": round(wall, 2),
            "cpu_seconds": {k: round(v, 2) for k, v in used.items()},
            "cores_busy": round(machine / wall, 2) if wall else None,
            "cores": psutil.cpu_count(),
        }
