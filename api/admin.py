"""Administration: merchants, their numbers and their staff. Admin credentials only: a
merchant's admin manages their own merchant, platform admins create merchants."""

from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile, status

from api.deps import AdminDep, PlatformAdminDep, SessionDep, bearer_gate
from api.profile_schemas import BusinessProfileRead, BusinessProfileUpdate
from api.schemas import (
    MerchantCreate,
    MerchantRead,
    MerchantUpdate,
    MerchantUserCreate,
    MerchantUserRead,
    MerchantUserUpdate,
    PhoneNumberCreate,
    PhoneNumberRead,
    PhoneNumberUpdate,
)
from api.uploads import gated_post
from services.hours.weekly import OpeningHours
from services.merchants import account, business_profile
from services.merchants import merchant as merchants
from services.merchants.profile_photo import MAX_BYTES as PHOTO_MAX_BYTES

router = APIRouter(prefix="/api/v1", tags=["administration"])


def _merchant_read(session: SessionDep, merchant_id: int) -> MerchantRead:
    merchant = merchants.get_merchant(session, merchant_id)
    numbers = merchants.phone_numbers_of(session, merchant_id)
    return MerchantRead(
        id=merchant.id,
        name=merchant.name,
        description=merchant.description,
        tone=merchant.tone,
        default_language=merchant.default_language,
        greeting=merchant.greeting,
        ai_rules=merchant.ai_rules,
        timezone=merchant.timezone,
        opening_hours=OpeningHours.model_validate(merchant.opening_hours)
        if merchant.opening_hours
        else None,
        whatsapp_business_account_id=merchant.whatsapp_business_account_id,
        created_at=merchant.created_at,
        phone_numbers=[PhoneNumberRead.model_validate(n) for n in numbers],
    )


@router.post("/merchants", status_code=status.HTTP_201_CREATED)
def create_merchant(body: MerchantCreate, session: SessionDep, _: PlatformAdminDep) -> MerchantRead:
    """Create a merchant, optionally with its WhatsApp numbers."""
    merchant = merchants.create_merchant(
        session,
        name=body.name,
        description=body.description,
        tone=body.tone,
        default_language=body.default_language,
        whatsapp_business_account_id=body.whatsapp_business_account_id,
    )
    merchants.update_merchant(
        session, merchant.id, body.model_dump(include={"timezone", "opening_hours"})
    )
    for number in body.phone_numbers:
        merchants.add_phone_number(session, merchant_id=merchant.id, **number.model_dump())
    return _merchant_read(session, merchant.id)


@router.get("/merchants")
def list_merchants(
    session: SessionDep, principal: AdminDep, merchant_id: int | None = None
) -> list[MerchantRead]:
    rows = merchants.list_merchants(session, merchant_id=principal.scope(merchant_id))
    return [_merchant_read(session, m.id) for m in rows]


@router.patch("/merchants/{merchant_id}")
def update_merchant(
    merchant_id: int, body: MerchantUpdate, session: SessionDep, _: AdminDep
) -> MerchantRead:
    """Change a merchant's profile: what the AI is told about the business (description,
    tone, language, greeting, `ai_rules`: things the AI must never do, one per line) and its
    time (time zone, weekly opening hours)."""
    merchants.update_merchant(session, merchant_id, body.model_dump(exclude_unset=True))
    return _merchant_read(session, merchant_id)


@router.post("/merchants/{merchant_id}/phone-numbers", status_code=status.HTTP_201_CREATED)
def add_phone_number(
    merchant_id: int, body: PhoneNumberCreate, session: SessionDep, _: AdminDep
) -> PhoneNumberRead:
    """Connect another WhatsApp business number to the merchant."""
    phone = merchants.add_phone_number(session, merchant_id=merchant_id, **body.model_dump())
    return PhoneNumberRead.model_validate(phone)


@router.post("/merchants/{merchant_id}/users", status_code=status.HTTP_201_CREATED)
def add_merchant_user(
    merchant_id: int, body: MerchantUserCreate, session: SessionDep, _: AdminDep
) -> MerchantUserRead:
    """Add a staff member (admin, sales, returns...) who answers escalations on WhatsApp."""
    user = merchants.add_merchant_user(session, merchant_id=merchant_id, **body.model_dump())
    return MerchantUserRead.model_validate(user)


@router.get("/merchants/{merchant_id}/users")
def list_merchant_users(
    merchant_id: int, session: SessionDep, _: AdminDep
) -> list[MerchantUserRead]:
    return [
        MerchantUserRead.model_validate(u)
        for u in merchants.list_merchant_users(session, merchant_id)
    ]


@router.delete("/merchants/{merchant_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_merchant(
    merchant_id: int, session: SessionDep, _: PlatformAdminDep, force: bool = False
) -> Response:
    """Delete a merchant (platform admins only). Its numbers, conversations, messages,
    notifications, documents and staff go with it, so a merchant that still has
    conversations is refused with 409 unless `force=true`."""
    account.delete_merchant(session, merchant_id, force=force)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/merchants/{merchant_id}/phone-numbers")
def list_phone_numbers(merchant_id: int, session: SessionDep, _: AdminDep) -> list[PhoneNumberRead]:
    """The merchant's WhatsApp numbers; access tokens are never shown."""
    merchants.get_merchant(session, merchant_id)
    return [
        PhoneNumberRead.model_validate(n) for n in merchants.phone_numbers_of(session, merchant_id)
    ]


@router.patch("/merchants/{merchant_id}/phone-numbers/{phone_number_id}")
def update_phone_number(
    merchant_id: int,
    phone_number_id: str,
    body: PhoneNumberUpdate,
    session: SessionDep,
    _: AdminDep,
) -> PhoneNumberRead:
    """Replace a number's access token (stored encrypted, never echoed) or display number.
    `phone_number_id` is Meta's id."""
    phone = account.update_phone_number(
        session, merchant_id=merchant_id, phone_number_id=phone_number_id,
        changes=body.model_dump(exclude_unset=True),
    )  # fmt: skip
    return PhoneNumberRead.model_validate(phone)


@router.delete(
    "/merchants/{merchant_id}/phone-numbers/{phone_number_id}",
    status_code=status.HTTP_204_NO_CONTENT,
)
def delete_phone_number(
    merchant_id: int, phone_number_id: str, session: SessionDep, _: AdminDep, force: bool = False
) -> Response:
    """Disconnect a number. Its conversations are deleted with it, so a number that has
    conversations is refused with 409 unless `force=true`."""
    account.delete_phone_number(
        session, merchant_id=merchant_id, phone_number_id=phone_number_id, force=force
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/merchants/{merchant_id}/users/{merchant_user_id}")
def update_merchant_user(
    merchant_id: int,
    merchant_user_id: int,
    body: MerchantUserUpdate,
    session: SessionDep,
    _: AdminDep,
) -> MerchantUserRead:
    """Rename a staff member, change their type or their WhatsApp identity."""
    user = account.update_merchant_user(
        session, merchant_id=merchant_id, merchant_user_id=merchant_user_id,
        changes=body.model_dump(exclude_unset=True),
    )  # fmt: skip
    return MerchantUserRead.model_validate(user)


@router.delete(
    "/merchants/{merchant_id}/users/{merchant_user_id}", status_code=status.HTTP_204_NO_CONTENT
)
def delete_merchant_user(
    merchant_id: int, merchant_user_id: int, session: SessionDep, _: AdminDep
) -> Response:
    """Remove a staff member. Their open notifications stay open and keep waiting for the
    remaining staff and the operators; they are not deleted or re-sent."""
    account.delete_merchant_user(
        session, merchant_id=merchant_id, merchant_user_id=merchant_user_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/merchants/{merchant_id}/phone-numbers/{phone_number_id}/business-profile")
def read_business_profile(
    merchant_id: int, phone_number_id: str, session: SessionDep, _: AdminDep
) -> BusinessProfileRead:
    """The number's WhatsApp business profile as Meta has it (502 when Meta fails)."""
    profile = business_profile.read_profile(
        session, merchant_id=merchant_id, phone_number_id=phone_number_id
    )
    return BusinessProfileRead.model_validate(profile)


@router.patch("/merchants/{merchant_id}/phone-numbers/{phone_number_id}/business-profile")
def update_business_profile(
    merchant_id: int,
    phone_number_id: str,
    body: BusinessProfileUpdate,
    session: SessionDep,
    _: AdminDep,
) -> BusinessProfileRead:
    """Change what customers see about the business on WhatsApp: `about` (up to 139
    characters), `address`, `description` (512), `email`, `websites` (at most 2 http(s)
    URLs), `vertical` (Meta's categories). A field left out is unchanged; `null` or "" (`[]`
    for websites) clears address, description, email or websites; `about` and `vertical`
    can be changed but never cleared (422). Answers the profile as Meta then has it."""
    profile = business_profile.update_profile(
        session, merchant_id=merchant_id, phone_number_id=phone_number_id,
        changes=body.changes(),
    )  # fmt: skip
    return BusinessProfileRead.model_validate(profile)


@gated_post(  # the admin's token is checked before the photo is read
    router, "/merchants/{merchant_id}/phone-numbers/{phone_number_id}/business-profile/photo",
    gate=bearer_gate, limit=lambda: PHOTO_MAX_BYTES, responses={413: {}, 422: {}, 502: {}},
)  # fmt: skip
def update_business_profile_photo(
    merchant_id: int,
    phone_number_id: str,
    file: Annotated[UploadFile, File(description="JPEG or PNG, at most 5 MB, 192 px or more")],
    session: SessionDep,
    _: AdminDep,
) -> BusinessProfileRead:
    """Set the number's WhatsApp profile photo (multipart `file`): uploaded through Meta's
    Resumable Upload API with the deployment's META_APP_ID, then set by its handle. 422 for
    a file WhatsApp would refuse, naming why. Answers the profile as Meta then has it."""
    data = file.file.read(PHOTO_MAX_BYTES + 1)
    profile = business_profile.update_photo(
        session, merchant_id=merchant_id, phone_number_id=phone_number_id, data=data
    )
    return BusinessProfileRead.model_validate(profile)
