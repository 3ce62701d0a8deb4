"""Request and response bodies of WhatsApp onboarding (Embedded Signup)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.onboarding.flows import OnboardingResult
from services.onboarding.onboarding import OnboardingRequest, OnboardingView

MetaId = Annotated[str, Field(pattern=r"^\d{1,32}$", description="a numeric Meta id")]


class WhatsAppOnboardingCreate(BaseModel):
    """What Embedded Signup gave the browser: the code (exchanged at once: it expires
    within minutes) and the business account and number the merchant chose."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=2048)
    waba_id: MetaId
    phone_number_id: MetaId
    merchant_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    pin: str | None = Field(
        default=None,
        pattern=r"^\d{6}$",
        description="the number's existing two-step verification PIN, if it has one",
    )

    def request(self) -> OnboardingRequest:
        return OnboardingRequest(**self.model_dump())


class WhatsAppOnboardingRead(OnboardingView):
    """The onboarding's progress, each step's status, and in `detail` which step failed and
    why, with what to do. Never the business token or the PIN."""

    detail: str | None = None

    @classmethod
    def of(cls, result: OnboardingResult) -> WhatsAppOnboardingRead:
        detail = result.failure.message if result.failure else None
        return cls(**result.view.model_dump(), detail=detail)
