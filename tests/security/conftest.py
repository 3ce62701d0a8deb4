"""Settings changed for one test, through the environment as every process reads them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """`configure(API_RATE_LIMIT_PER_MINUTE=3)`: set variables and drop the cached settings
    (and the Redis and database clients made from them); all restored afterwards."""
    from settings import get_settings
    from tasks import runtime

    def reset() -> None:
        get_settings.cache_clear()
        runtime.reset()

    def apply(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        reset()

    yield apply
    monkeypatch.undo()
    reset()
