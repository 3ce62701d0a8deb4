"""Now, for the rules that depend on the time of day or week (business hours, SLAs).

FROZEN_TIME stops it at one instant in every process that reads the settings (API, worker,
beat), so end-to-end tests decide "now" without sleeping or patching a process they
cannot reach.
"""

from __future__ import annotations

from datetime import UTC, datetime

from settings import get_settings


def now() -> datetime:
    return get_settings().frozen_time or datetime.now(UTC)
