"""Administration: merchants, their numbers and their staff. Admin credentials only: a
merchant's admin manages their own merchant, platform admins create merchants."""

from fastapi import APIRouter, status

from api.deps import AdminDep, PlatformAdminDep, SessionDep
from api.schemas import (
    MerchantCreate,
    MerchantRead,
    MerchantUpdate,
    MerchantUserCreate,
    MerchantUserRead,
    PhoneNumberCreate,
    PhoneNumberRead,
)
from services.merchants import merchant as merchants
from services.merchants.hours import OpeningHours

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
        timezone=merchant.timezone,
        opening_hours=OpeningHours.model_validate(merchant.opening_hours)
        if merchant.opening_hours
        else None,
        whatsapp_business_account_id=merchant.whatsapp_business_account_id,
        created_at=merchant.created_at,
        phone_numbers=[PhoneNumberRead.model_validate(n) for n in numbers],
    )


@router.post("/merchants", status_code=status.HTTP_201_CREATED)
def create_merchant(
    body: MerchantCreate, session: SessionDep, _: PlatformAdminDep
) -> MerchantRead:
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
    tone, language) and its time (time zone, weekly opening hours)."""
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
