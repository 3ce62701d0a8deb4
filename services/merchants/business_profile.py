"""The WhatsApp business profile of a merchant's number, read and changed at Meta."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from channels.errors import AuthError, InvalidRequest, WhatsAppError
from channels.whatsapp_profile import BusinessProfileClient
from services.errors import DomainError, InvalidInput
from services.merchants.account import get_phone_number
from services.merchants.profile_photo import checked_photo
from settings import get_settings


class GraphUnavailable(DomainError):
    """Meta failed or could not be reached: calling again may work."""

    status_code = 502


def _client() -> BusinessProfileClient:
    settings = get_settings()
    return BusinessProfileClient(
        api_root=settings.whatsapp_api_root, timeout=settings.whatsapp_timeout_seconds
    )


def _meta_error(exc: WhatsAppError) -> DomainError:
    if isinstance(exc, (InvalidRequest, AuthError)):
        return InvalidInput(f"WhatsApp refused the business profile: {exc}")
    return GraphUnavailable(f"WhatsApp did not answer the business profile call: {exc}")


def read_profile(session: Session, *, merchant_id: int, phone_number_id: str) -> dict[str, Any]:
    phone = get_phone_number(session, merchant_id=merchant_id, phone_number_id=phone_number_id)
    try:
        with _client() as api:
            return api.read_profile(phone.phone_number_id, token=phone.access_token)
    except WhatsAppError as exc:
        raise _meta_error(exc) from None


def update_profile(
    session: Session, *, merchant_id: int, phone_number_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Send the changed fields to Meta (a None one is cleared there), then read the profile
    back as Meta now has it."""
    phone = get_phone_number(session, merchant_id=merchant_id, phone_number_id=phone_number_id)
    try:
        with _client() as api:
            if changes:
                api.update_profile(phone.phone_number_id, changes, token=phone.access_token)
            return api.read_profile(phone.phone_number_id, token=phone.access_token)
    except WhatsAppError as exc:
        raise _meta_error(exc) from None


def update_photo(
    session: Session, *, merchant_id: int, phone_number_id: str, data: bytes
) -> dict[str, Any]:
    """Upload the photo through Meta's Resumable Upload API (META_APP_ID's upload session),
    set it on the profile by its handle, and read the profile back."""
    photo = checked_photo(data)
    phone = get_phone_number(session, merchant_id=merchant_id, phone_number_id=phone_number_id)
    app_id = get_settings().meta_app_id
    if not app_id:
        raise InvalidInput("META_APP_ID must be set to upload a profile photo (Meta's uploads)")
    try:
        with _client() as api:
            handle = api.upload_photo(
                photo.data, photo.mime_type, app_id=app_id, token=phone.access_token
            )
            api.set_photo(phone.phone_number_id, handle, token=phone.access_token)
            return api.read_profile(phone.phone_number_id, token=phone.access_token)
    except WhatsAppError as exc:
        raise _meta_error(exc) from None
