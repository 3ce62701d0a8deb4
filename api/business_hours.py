"""Business hours: GET/PUT /api/v1/merchants/{merchant_id}/business-hours (merchant admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import AfterValidator, Field

from api.deps import AdminDep, SessionDep
from services.errors import DomainError
from services.hours.business import BusinessHours, NotificationSla, get_business_hours
from services.hours.business import set_business_hours as store
from services.notifications.kinds import kind_of

router = APIRouter(prefix="/api/v1", tags=["administration"])


def _notification_type(name: str) -> str:
    try:
        return kind_of(name).notification_type.value
    except DomainError as exc:
        raise ValueError(exc.message) from None


class BusinessHoursBody(BusinessHours):
    notification_slas: dict[
        Annotated[str, AfterValidator(_notification_type)], NotificationSla
    ] = Field(
        default_factory=dict,
        description="Per notification type (user_question_request, user_support_request): "
        "target_minutes and close_after_minutes of business time",
    )


@router.get("/merchants/{merchant_id}/business-hours", responses={404: {}})
def read_business_hours(merchant_id: int, session: SessionDep, _: AdminDep) -> BusinessHours:
    return get_business_hours(session, merchant_id)


@router.put("/merchants/{merchant_id}/business-hours", responses={404: {}, 422: {}})
def set_business_hours(
    merchant_id: int, body: BusinessHoursBody, session: SessionDep, _: AdminDep
) -> BusinessHours:
    """Replace the merchant's business hours: time zone, weekly ranges (several a day;
    "22:00-02:00" runs overnight), holidays (whole local dates), the away message sent
    when no AI answers outside hours, and notification SLAs. Outside hours the AI still
    answers, but promises that a person gets back when the business opens; handoff timers
    and SLAs count business time only. No ranges on any day: always open."""
    return store(session, merchant_id, body)
