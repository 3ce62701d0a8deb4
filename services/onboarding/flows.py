"""Onboarding a number, each step in its own transaction: a step's outcome (the business
token above all: a code serves once) is durable as soon as the step ends, whatever happens
to the next one, and a repeated request resumes from the step that failed."""

from __future__ import annotations

from dataclasses import dataclass

from channels.errors import (
    AuthError,
    InvalidRequest,
    RegistrationLimited,
    TwoStepPinMismatch,
    WhatsAppError,
)
from channels.whatsapp_onboarding import OnboardingClient
from observability.logs import get_logger
from persistence.db import session_scope
from services.errors import DomainError
from services.onboarding import onboarding
from services.onboarding.onboarding import (
    DONE,
    REFRESH_STEPS,
    STEPS,
    OnboardingRequest,
    OnboardingView,
)
from services.onboarding.steps import STEP_RUNNERS
from settings import get_settings

log = get_logger(__name__)


@dataclass(frozen=True)
class StepFailure:
    step: str
    status_code: int  # 422: the merchant or the deployer must act; 502: Meta, try again
    message: str


@dataclass(frozen=True)
class OnboardingResult:
    view: OnboardingView
    failure: StepFailure | None


def onboard_whatsapp(request: OnboardingRequest) -> OnboardingResult:
    """Run the number's onboarding from where it stands. A finished one given the same code
    again is left as it is; given a new code, its token is refreshed (REFRESH_STEPS)."""
    with session_scope() as session:
        row = onboarding.begin(session, request)
        onboarding_id, step = row.id, row.step
        refresh = onboarding.needs_refresh(row, request)
    failure = None
    if step != DONE or refresh:
        settings = get_settings()
        with OnboardingClient(
            api_root=settings.whatsapp_api_root, timeout=settings.whatsapp_timeout_seconds
        ) as api:
            for name in REFRESH_STEPS if refresh else STEPS[STEPS.index(step) :]:
                failure = _run_step(onboarding_id, name, request, api, refresh=refresh)
                if failure is not None:
                    break
    with session_scope() as session:
        return OnboardingResult(onboarding.get_view(session, onboarding_id), failure)


def _run_step(
    onboarding_id: int,
    name: str,
    request: OnboardingRequest,
    api: OnboardingClient,
    *,
    refresh: bool = False,
) -> StepFailure | None:
    """One step in its own transaction. A refresh leaves the finished row finished: a
    failure is answered, and the next code tries again."""
    try:
        with session_scope() as session:
            row = onboarding.lock(session, onboarding_id=onboarding_id)
            if row is None or row.step != (DONE if refresh else name):
                return None  # another request did this step meanwhile
            STEP_RUNNERS[name](session, row, request, api)
            if not refresh:
                onboarding.advance(row, name)
    except (WhatsAppError, DomainError) as exc:
        failure = describe(name, exc)
        with session_scope() as session:
            row = onboarding.lock(session, onboarding_id=onboarding_id)
            if row is not None and not refresh:
                onboarding.fail(row, name, failure.message)
        log.warning(
            "onboarding.step_failed", step=name, phone_number_id=request.phone_number_id,
            error=failure.message,
        )  # fmt: skip
        return failure
    log.info("onboarding.step_done", step=name, phone_number_id=request.phone_number_id)
    return None


def describe(step: str, exc: WhatsAppError | DomainError) -> StepFailure:
    """What failed, Meta's own words, and what to do about it."""
    if isinstance(exc, DomainError):
        return StepFailure(step, exc.status_code, f"{step} failed: {exc.message}")
    status = 422 if isinstance(exc, (InvalidRequest, AuthError)) else 502
    return StepFailure(step, status, f"{step} failed: {_advice(step, exc)} (Meta: {exc})")


def _advice(step: str, exc: WhatsAppError) -> str:
    if isinstance(exc, TwoStepPinMismatch):
        return (
            "the number already has a two-step verification PIN. Reset or disable it in "
            "WhatsApp Manager (Phone numbers > Two-step verification), or send the PIN as "
            '"pin", then try again'
        )
    if isinstance(exc, RegistrationLimited):
        return (
            "Meta allows 10 registration attempts per number in 72 hours; try again once "
            "that window has passed"
        )
    if step in ("exchange_code", "refresh_token") and isinstance(exc, (InvalidRequest, AuthError)):
        return (
            "Meta refused the Embedded Signup code (a code serves once and expires within "
            "minutes; a wrong META_APP_ID or META_APP_SECRET is refused too); run Embedded "
            "Signup again"
        )
    if isinstance(exc, (InvalidRequest, AuthError)):
        return "Meta refused the request; check the app's permissions on the business account"
    return "Meta did not complete it; try again to resume from this step"
