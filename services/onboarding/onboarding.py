"""A number's onboarding row: where it stands, what it was asked, and how it reads back.

Steps run in order; `step` names the next one to do ("done" at the end), so every step
before it is done, and a repeated request resumes there."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from persistence.models import WhatsAppOnboarding
from services.errors import Conflict, NotFound
from services.merchants import merchant as merchants

STEPS = (
    "exchange_code",
    "subscribe_app",
    "register_number",
    "read_number",
    "save_merchant",  # before the templates: they are recorded as the merchant's
    "provision_templates",
)
DONE = "done"
# a finished number given a new code: its new business token replaces the old one, and the
# app's subscription and the registration are checked again; nothing else changes
REFRESH_STEPS = ("refresh_token", "subscribe_app", "register_number")


def code_digest(code: str) -> str:
    """What is kept of a code: enough to know the same code again, never the code."""
    return hashlib.sha256(code.encode()).hexdigest()


def needs_refresh(row: WhatsAppOnboarding, request: OnboardingRequest) -> bool:
    return row.step == DONE and row.code_digest != code_digest(request.code)


@dataclass(frozen=True)
class OnboardingRequest:
    code: str
    waba_id: str
    phone_number_id: str
    merchant_id: int | None = None
    pin: str | None = None  # the number's own two-step verification PIN, when it has one


class StepState(BaseModel):
    name: str
    status: str  # done, failed, pending
    error: str | None = None


class OnboardingView(BaseModel):
    """What the API and the console show: never the token or the PIN."""

    id: int
    status: str  # done, failed, running
    phone_number_id: str
    waba_id: str
    merchant_id: int | None
    display_phone_number: str | None
    verified_name: str | None
    quality_rating: str | None
    messaging_limit: str | None
    steps: list[StepState]
    error: str | None  # the failed step's, while it is failed


def begin(session: Session, request: OnboardingRequest) -> WhatsAppOnboarding:
    """The number's onboarding, created at its first step; the same business account and
    merchant as before, if it was started already."""
    if request.merchant_id is not None:
        merchants.get_merchant(session, request.merchant_id)
    row = lock(session, phone_number_id=request.phone_number_id) or _create(session, request)
    _check_same(row, request)
    if row.status != "done" and request.pin:
        row.pin = request.pin
    return row


def _create(session: Session, request: OnboardingRequest) -> WhatsAppOnboarding:
    """A new row, or the one a simultaneous first request just made."""
    row = WhatsAppOnboarding(
        phone_number_id=request.phone_number_id, waba_id=request.waba_id,
        merchant_id=request.merchant_id, step=STEPS[0], status="running",
        pin=f"{secrets.randbelow(10**6):06d}",
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(row)
        return row
    except IntegrityError:
        found = lock(session, phone_number_id=request.phone_number_id)
        assert found is not None
        return found


def _check_same(row: WhatsAppOnboarding, request: OnboardingRequest) -> None:
    if row.waba_id != request.waba_id:
        raise Conflict(
            f"number {row.phone_number_id} is being onboarded with business account "
            f"{row.waba_id}, not {request.waba_id}"
        )
    wanted = request.merchant_id
    if wanted is not None and row.merchant_id is not None and wanted != row.merchant_id:
        raise Conflict(f"number {row.phone_number_id} was onboarded for merchant {row.merchant_id}")


def lock(
    session: Session, *, phone_number_id: str | None = None, onboarding_id: int | None = None
) -> WhatsAppOnboarding | None:
    """The row, locked until the transaction ends: one request works on a number at a time."""
    stmt = select(WhatsAppOnboarding).with_for_update()
    if onboarding_id is not None:
        stmt = stmt.where(WhatsAppOnboarding.id == onboarding_id)
    else:
        stmt = stmt.where(WhatsAppOnboarding.phone_number_id == phone_number_id)
    return session.scalar(stmt)


def advance(row: WhatsAppOnboarding, step: str) -> None:
    following = STEPS.index(step) + 1
    row.step = STEPS[following] if following < len(STEPS) else DONE
    row.status = DONE if row.step == DONE else "running"
    row.error = None


def fail(row: WhatsAppOnboarding, step: str, error: str) -> None:
    row.step, row.status, row.error = step, "failed", error


def recent_views(session: Session, limit: int = 20) -> list[OnboardingView]:
    stmt = select(WhatsAppOnboarding).order_by(WhatsAppOnboarding.id.desc()).limit(limit)
    return [view(row) for row in session.scalars(stmt)]


def get_view(session: Session, onboarding_id: int) -> OnboardingView:
    row = session.get(WhatsAppOnboarding, onboarding_id)
    if row is None:
        raise NotFound(f"onboarding {onboarding_id} does not exist")
    return view(row)


def view(row: WhatsAppOnboarding) -> OnboardingView:
    reached = len(STEPS) if row.step == DONE else STEPS.index(row.step)
    steps = [
        StepState(name=name, status="done")
        if index < reached
        else StepState(name=name, status="failed", error=row.error)
        if index == reached and row.status == "failed"
        else StepState(name=name, status="pending")
        for index, name in enumerate(STEPS)
    ]
    return OnboardingView(
        id=row.id, status=row.status, phone_number_id=row.phone_number_id, waba_id=row.waba_id,
        merchant_id=row.merchant_id, display_phone_number=row.display_phone_number,
        verified_name=row.verified_name, quality_rating=row.quality_rating,
        messaging_limit=row.messaging_limit, steps=steps, error=row.error,
    )  # fmt: skip
