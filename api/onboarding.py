"""Self-serve onboarding of a WhatsApp number: the end of Meta's Embedded Signup."""

from dataclasses import replace

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import AdminDep
from api.onboarding_schemas import WhatsAppOnboardingCreate, WhatsAppOnboardingRead
from services.onboarding.flows import OnboardingResult, onboard_whatsapp

router = APIRouter(prefix="/api/v1", tags=["administration"])


@router.post(
    "/onboarding/whatsapp",
    response_model=WhatsAppOnboardingRead,
    responses={422: {"model": WhatsAppOnboardingRead}, 502: {"model": WhatsAppOnboardingRead}},
)
async def onboard_whatsapp_number(
    body: WhatsAppOnboardingCreate, principal: AdminDep
) -> JSONResponse:
    """Finish Embedded Signup: exchange the code for the business's token, subscribe our app
    to the business account, register the number, read its name and quality, create or
    extend the merchant (`merchant_id`, else a new one named after the number) and provision
    our message templates.

    Each step is recorded; a failure answers 422 (the merchant or the deployer must act) or
    502 (Meta failed: call again) naming the step, and calling again resumes there. Calling
    again after success changes nothing. A merchant's own admin always onboards onto their
    merchant: only platform admins create merchants."""
    request = body.request()
    if principal.merchant_id is not None:
        request = replace(request, merchant_id=principal.merchant_id)
    result = await run_in_threadpool(onboard_whatsapp, request)
    return onboarding_response(result)


def onboarding_response(result: OnboardingResult) -> JSONResponse:
    status = result.failure.status_code if result.failure else 200
    return JSONResponse(WhatsAppOnboardingRead.of(result).model_dump(mode="json"), status)
