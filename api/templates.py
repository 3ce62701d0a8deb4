"""The merchant's WhatsApp message templates, as API users choose among them."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import PrincipalDep, SessionDep
from services.merchants import merchant as merchants
from services.templates.chosen import TemplateOption, list_options

router = APIRouter(prefix="/api/v1", tags=["templates"])


class TemplateRead(BaseModel):
    name: str
    language: str
    status: str
    category: str
    header: str | None
    body: str
    parameter_count: int  # a text header's parameter first, then the body's
    unsupported: str | None  # why it cannot be sent through the API yet
    quality: str | None = None  # Meta's quality score: GREEN, YELLOW, RED or UNKNOWN

    @classmethod
    def of(cls, option: TemplateOption) -> "TemplateRead":
        return cls(
            name=option.name, language=option.language, status=option.status,
            category=option.category, header=option.header, body=option.body,
            parameter_count=option.placeholders, unsupported=option.unsupported,
            quality=option.quality,
        )  # fmt: skip


@router.get("/templates", responses={404: {}})
def list_templates(
    session: SessionDep,
    _: PrincipalDep,
    merchant_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
    status: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z_]{1,24}$", description="e.g. APPROVED, PENDING, REJECTED"),
    ] = None,
) -> list[TemplateRead]:
    """Every template of the merchant's WhatsApp Business Account (ours and their own, as
    last synced), for `template` in POST /api/v1/operator-message."""
    merchants.get_merchant(session, merchant_id)
    return [TemplateRead.of(o) for o in list_options(session, merchant_id, status=status)]
