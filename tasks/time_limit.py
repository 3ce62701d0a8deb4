"""The soft time limit as an exception that nothing on a turn's path can swallow.

Celery's soft limit raises `SoftTimeLimitExceeded` from a SIGUSR1 handler in the pool
process, wherever the task happens to be. It is an `Exception`, and a turn spends its time
inside the LLM layer, where every `Exception` is someone's business: LangChain's
`with_fallbacks` takes it for a failed provider and asks the next one (which can hang
too), and `invoke_agent_model` turns what is left into `LLMUnavailable`. The signal fires
once, so the turn ran on to the hard limit. During a turn the signal raises `TurnTimeLimit`
instead: a `BaseException`, like `KeyboardInterrupt`, which only the task catches.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SOFT_LIMIT_SIGNAL = getattr(signal, "SIGUSR1", None)  # billiard's SIG_SOFT_TIMEOUT


class TurnTimeLimit(BaseException):
    """The task's soft time limit fired during a turn."""


def _raise_time_limit(signum: int, frame: FrameType | None) -> None:
    raise TurnTimeLimit()


@contextmanager
def soft_limit_as_base_exception() -> Iterator[None]:
    """While inside, the soft time limit raises `TurnTimeLimit`. Only the main thread of a
    prefork (or solo) pool process gets the signal; elsewhere this changes nothing."""
    if SOFT_LIMIT_SIGNAL is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(SOFT_LIMIT_SIGNAL, _raise_time_limit)
    try:
        yield
    finally:
        signal.signal(SOFT_LIMIT_SIGNAL, previous)
