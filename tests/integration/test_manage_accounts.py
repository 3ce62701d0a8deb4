"""Accounts from the shell, through scripts/manage.py's entry point: finishing Embedded
Signup from its code (the API's service), and changing a merchant."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from persistence.db import session_scope
from persistence.models import Merchant, PhoneNumber
from tests.conftest import ROOT
from tests.integration import onboarding_helpers
from tests.integration.onboarding_helpers import NEW_NUMBER, NEW_TOKEN, WABA_ID

pytestmark = pytest.mark.integration
meta_app = onboarding_helpers.meta_app


def _manage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/manage.py", *args], cwd=ROOT, env=dict(os.environ),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _onboard(code: str) -> subprocess.CompletedProcess[str]:
    return _manage(
        "onboard-whatsapp", "--code", code, "--waba-id", WABA_ID, "--phone-number-id", NEW_NUMBER
    )


@pytest.mark.usefixtures("meta_app")
def test_onboard_whatsapp_finishes_embedded_signup_from_the_shell(clean, fakes):
    fakes["graph"].onboarding.add_number(
        NEW_NUMBER, display_phone_number="15557654321", verified_name="Sunrise Bakery"
    )
    done = _onboard(fakes["graph"].onboarding.issue_code(NEW_TOKEN))
    assert done.returncode == 0, done.stderr
    assert "15557654321" in done.stdout and "Sunrise Bakery" in done.stdout
    assert NEW_TOKEN not in done.stdout + done.stderr
    with session_scope() as session:
        phone = session.scalars(select(PhoneNumber)).one()
        merchant = session.get(Merchant, phone.merchant_id)
        assert (phone.phone_number_id, phone.access_token) == (NEW_NUMBER, NEW_TOKEN)
        assert (merchant.name, merchant.whatsapp_business_account_id) == ("Sunrise Bakery", WABA_ID)
        assert phone.quality_rating == "GREEN"


@pytest.mark.usefixtures("meta_app")
def test_onboard_whatsapp_names_the_failed_step_and_exits_1(clean, fakes):
    fakes["graph"].onboarding.add_number(NEW_NUMBER)
    failed = _onboard("AQB-never-issued")
    assert failed.returncode == 1
    assert failed.stderr.splitlines()[-1].startswith("error: exchange_code failed")
    assert "AQB-never-issued" not in failed.stderr


def test_update_merchant_changes_only_what_is_given_and_refuses_bad_values(merchant):
    done = _manage("update-merchant", str(merchant["id"]), "--tone", "warm", "--language", "es")
    assert done.returncode == 0, done.stderr
    assert "default_language, tone" in done.stdout
    with session_scope() as session:
        row = session.get(Merchant, merchant["id"])
        assert (row.name, row.tone, row.default_language) == ("Acme Shoes", "warm", "es")
    bad = _manage("update-merchant", str(merchant["id"]), "--timezone", "Mars/Olympus")
    assert bad.returncode == 1 and "timezone" in bad.stderr
    assert _manage("update-merchant", "999999", "--tone", "x").returncode == 1
    listed = _manage("list")
    assert listed.returncode == 0 and f"{merchant['id']}: Acme Shoes" in listed.stdout
