"""Embedded Signup for tests: the Meta app settings and a number waiting at Meta."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

WABA_ID = "102290129340398"
NEW_NUMBER = "209876543210987"
NEW_TOKEN = "EAAB-onboarded-business-token-5e7a1c"
META_APP_ID = "1234567890"
META_APP_SECRET = "meta-app-secret-9f8e7d"
CONFIG_ID = "774411223355"


@pytest.fixture
def meta_app(monkeypatch: pytest.MonkeyPatch, fakes: dict) -> Iterator[None]:
    """META_APP_* for this process (the API), known to the Graph simulator."""
    from settings import get_settings

    fakes["graph"].onboarding.app_id = META_APP_ID
    fakes["graph"].onboarding.app_secret = META_APP_SECRET
    monkeypatch.setenv("META_APP_ID", META_APP_ID)
    monkeypatch.setenv("META_APP_SECRET", META_APP_SECRET)
    monkeypatch.setenv("META_EMBEDDED_SIGNUP_CONFIG_ID", CONFIG_ID)
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def signup_body(fakes: dict, **extra: object) -> dict:
    """What the console posts after Embedded Signup: a fresh code for NEW_TOKEN."""
    code = fakes["graph"].onboarding.issue_code(NEW_TOKEN)
    return {"code": code, "waba_id": WABA_ID, "phone_number_id": NEW_NUMBER, **extra}
