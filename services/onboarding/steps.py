"""The steps of a number's onboarding, each safe to run again: it either finds its work
done or does it. Each runs inside the transaction services.onboarding.flows opened for it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from channels.whatsapp_onboarding import OnboardingClient
from observability.logs import get_logger
from persistence.models import Merchant, WhatsAppOnboarding
from services.errors import Conflict, InvalidInput
from services.merchants import merchant as merchants
from services.merchants.clients import client_for
from services.onboarding.onboarding import OnboardingRequest, code_digest
from services.templates.defaults import SHIPPED_LANGUAGES, pick_language
from services.templates.sync import create_templates
from settings import get_settings

log = get_logger(__name__)

Step = Callable[[Session, WhatsAppOnboarding, OnboardingRequest, OnboardingClient], None]


def exchange_code(
    session: Session, row: WhatsAppOnboarding, request: OnboardingRequest, api: OnboardingClient
) -> None:
    settings = get_settings()
    if not (settings.meta_app_id and settings.meta_app_secret):
        raise InvalidInput(
            "META_APP_ID and META_APP_SECRET must be set to exchange Embedded Signup's code"
        )
    row.access_token = api.exchange_code(
        app_id=settings.meta_app_id,
        app_secret=settings.meta_app_secret.get_secret_value(),
        code=request.code,
    )
    row.code_digest = code_digest(request.code)


def refresh_token(
    session: Session, row: WhatsAppOnboarding, request: OnboardingRequest, api: OnboardingClient
) -> None:
    """A finished number's new code: its business token replaces the number's old one in the
    same transaction (a code serves once: the token must not be lost)."""
    if row.merchant_id is None:
        raise Conflict("the number has no merchant yet")
    exchange_code(session, row, request, api)
    merchants.connect_phone_number(
        session, merchant_id=row.merchant_id, phone_number_id=row.phone_number_id,
        access_token=_token(row), display_phone_number=None,
    )  # fmt: skip


def subscribe_app(
    session: Session, row: WhatsAppOnboarding, request: OnboardingRequest, api: OnboardingClient
) -> None:
    api.subscribe_app(row.waba_id, token=_token(row))


def register_number(
    session: Session, row: WhatsAppOnboarding, request: OnboardingRequest, api: OnboardingClient
) -> None:
    """Register unless the number already is: each attempt counts against Meta's 10 per
    72 hours, and an unneeded one could meet a PIN we do not know."""
    token = _token(row)
    if api.number_details(row.phone_number_id, token=token).registered:
        log.info("onboarding.already_registered", phone_number_id=row.phone_number_id)
        return
    api.register(row.phone_number_id, token=token, pin=str(row.pin))


def read_number(
    session: Session, row: WhatsAppOnboarding, request: OnboardingRequest, api: OnboardingClient
) -> None:
    details = api.number_details(row.phone_number_id, token=_token(row))
    row.display_phone_number = _cut(details.display_phone_number, 32)
    row.verified_name = _cut(details.verified_name, 200)
    row.quality_rating = _cut(details.quality_rating, 16)
    row.messaging_limit = _cut(details.messaging_limit, 32)


def save_merchant(
    session: Session, row: WhatsAppOnboarding, request: OnboardingRequest, api: OnboardingClient
) -> None:
    """The given merchant, the number's, the business account's, or a new one named after
    the number's verified name; the number joins it with the new token."""
    merchant = _merchant_for(session, row, request.merchant_id)
    if merchant.whatsapp_business_account_id not in (None, row.waba_id):
        raise Conflict(
            f"merchant {merchant.id} uses business account "
            f"{merchant.whatsapp_business_account_id}, not {row.waba_id}"
        )
    merchant.whatsapp_business_account_id = row.waba_id
    phone = merchants.connect_phone_number(
        session, merchant_id=merchant.id, phone_number_id=row.phone_number_id,
        access_token=_token(row), display_phone_number=row.display_phone_number,
    )  # fmt: skip
    phone.quality_rating = row.quality_rating or phone.quality_rating
    row.merchant_id = merchant.id


def provision_templates(
    session: Session, row: WhatsAppOnboarding, request: OnboardingRequest, api: OnboardingClient
) -> None:
    """Our message templates, in the merchant's language (English when none is shipped)."""
    if row.merchant_id is None:
        raise Conflict("the number has no merchant yet")
    merchant = merchants.get_merchant(session, row.merchant_id)
    phone = merchants.find_phone_number(session, row.phone_number_id)
    assert phone is not None  # save_merchant added it
    language = pick_language(SHIPPED_LANGUAGES, merchant.default_language) or "en"
    create_templates(
        session, merchant_id=merchant.id, languages=[language], client=client_for(phone)
    )


STEP_RUNNERS: dict[str, Step] = {
    "refresh_token": refresh_token,
    "exchange_code": exchange_code,
    "subscribe_app": subscribe_app,
    "register_number": register_number,
    "read_number": read_number,
    "save_merchant": save_merchant,
    "provision_templates": provision_templates,
}


def _merchant_for(session: Session, row: WhatsAppOnboarding, merchant_id: int | None) -> Merchant:
    phone = merchants.find_phone_number(session, row.phone_number_id)
    wanted = merchant_id or row.merchant_id or (phone.merchant_id if phone else None)
    if wanted is not None:
        return merchants.get_merchant(session, wanted)
    found = merchants.find_by_business_account(session, row.waba_id)
    if found is not None:
        return found
    name = row.verified_name or row.display_phone_number or f"WhatsApp {row.phone_number_id}"
    return merchants.create_merchant(session, name=name, whatsapp_business_account_id=row.waba_id)


def _token(row: WhatsAppOnboarding) -> str:
    if not row.access_token:
        raise Conflict("the onboarding has no business token: exchange a new code")
    return row.access_token


def _cut(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None
