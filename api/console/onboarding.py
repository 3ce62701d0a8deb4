"""Connect WhatsApp: a merchant's admin connects a number with Meta's Embedded Signup.

Meta's SDK (loaded only here, and only when META_APP_ID and META_EMBEDDED_SIGNUP_CONFIG_ID
are set) opens Meta's signup window; our script passes the code and the chosen business
account and number to the POST below, which runs the same onboarding as
POST /api/v1/onboarding/whatsapp. Without those settings the page explains the manual way."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from api.console.auth import ConsoleUserDep, FormUserDep
from api.console.templating import SECURITY_HEADERS, render
from api.deps import SessionDep
from api.onboarding import onboarding_response
from api.onboarding_schemas import WhatsAppOnboardingCreate
from services.merchants.merchant import list_merchants
from services.onboarding import onboarding
from services.onboarding.flows import onboard_whatsapp
from settings import get_settings

router = APIRouter(prefix="/console/settings/whatsapp", include_in_schema=False)

SDK_URL = "https://connect.facebook.net/en_US/sdk.js"
# What Meta's SDK needs besides our own scripts: its script, its login window and frames,
# and its calls home.
_META_CSP = (
    "default-src 'self'; img-src 'self' data: blob: https://*.facebook.com "
    "https://*.fbcdn.net; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' https://connect.facebook.net; "
    "frame-src https://www.facebook.com https://web.facebook.com https://*.facebook.com; "
    "connect-src 'self' https://graph.facebook.com https://*.facebook.com; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


@router.get("")
def whatsapp_page(request: Request, db: SessionDep, user: ConsoleUserDep) -> Response:
    settings = get_settings()
    context = {
        "user": user,
        "is_admin": user.principal.is_admin,
        "signup": settings.embedded_signup_enabled,
        "app_id": settings.meta_app_id,
        "config_id": settings.meta_embedded_signup_config_id,
        "graph_version": settings.whatsapp_api_version,
        "sdk_url": SDK_URL,
        "merchants": list_merchants(db) if user.principal.is_admin else [],
        "onboardings": onboarding.recent_views(db) if user.principal.is_admin else [],
    }
    status = 200 if user.principal.is_admin else 403
    response = render(request, "whatsapp_onboarding.html", context, status_code=status)
    if context["signup"] and user.principal.is_admin:
        response.headers["Content-Security-Policy"] = _META_CSP
    return response


@router.post("")
async def finish_signup(
    user: FormUserDep,
    code: Annotated[str, Form(max_length=2048)],
    waba_id: Annotated[str, Form(max_length=64)],
    phone_number_id: Annotated[str, Form(max_length=64)],
    merchant_id: Annotated[str, Form(max_length=12)] = "",
    pin: Annotated[str, Form(max_length=12)] = "",
) -> JSONResponse:
    """Embedded Signup's result, from this page's script: the onboarding's JSON."""
    user.principal.require_admin()
    try:
        body = WhatsAppOnboardingCreate(
            code=code, waba_id=waba_id, phone_number_id=phone_number_id,
            merchant_id=int(merchant_id) if merchant_id.isdigit() else None, pin=pin or None,
        )  # fmt: skip
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"detail": reasons}, 422, headers=SECURITY_HEADERS)
    result = await run_in_threadpool(onboard_whatsapp, body.request())
    return onboarding_response(result)
