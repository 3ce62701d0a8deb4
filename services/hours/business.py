"""A merchant's business hours: time zone, weekly hours, holidays, away message and the
notification SLAs, read and changed as one (GET/PUT /api/v1/merchants/{id}/business-hours)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from persistence.models import Merchant
from services.errors import NotFound
from services.hours.schedule import Schedule
from services.hours.weekly import OpeningHours, valid_timezone


class Holiday(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: date
    name: str = Field(default="", max_length=100)


class NotificationSla(BaseModel):
    """Minutes of business time. At half the target the staff asked get a reminder; at the
    target the merchant's admins are asked too; at `close_after_minutes` the request closes
    and the customer is told a person will follow up."""

    model_config = ConfigDict(extra="forbid")
    target_minutes: int = Field(ge=1, le=60 * 24 * 14)
    close_after_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 30)

    @model_validator(mode="after")
    def _closes_after_the_target(self) -> NotificationSla:
        if self.close_after_minutes is not None and self.close_after_minutes <= self.target_minutes:
            raise ValueError("close_after_minutes must be later than target_minutes")
        return self


Timezone = Annotated[str, Field(max_length=64), AfterValidator(valid_timezone)]


class BusinessHours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timezone: Timezone = Field(default="UTC", description="IANA time zone, e.g. Europe/Madrid")
    weekly: OpeningHours = Field(
        default_factory=OpeningHours,
        description='Per weekday, opening ranges such as "09:00-14:00"; "22:00-02:00" runs '
        "overnight. No ranges on any day: always open.",
    )
    holidays: list[Holiday] = Field(default_factory=list, max_length=200)
    away_message: str | None = Field(
        default=None,
        max_length=1000,
        description="Sent once per closed period to a customer who writes while no AI "
        "answers (no model configured).",
    )
    # keys are notification types; the API checks them against the registry
    # (services.notifications.kinds), which sits above this package
    notification_slas: dict[str, NotificationSla] = Field(
        default_factory=dict, description="Per notification type, e.g. user_question_request"
    )

    @model_validator(mode="after")
    def _one_holiday_per_date(self) -> BusinessHours:
        dates = [h.date for h in self.holidays]
        if len(dates) != len(set(dates)):
            raise ValueError("each holiday date may appear once")
        self.holidays.sort(key=lambda h: h.date)
        return self


def business_hours_of(merchant: Merchant) -> BusinessHours:
    return BusinessHours(
        timezone=merchant.timezone,
        weekly=OpeningHours.model_validate(merchant.opening_hours or {}),
        holidays=[Holiday.model_validate(h) for h in merchant.holidays or []],
        away_message=merchant.away_message,
        notification_slas={
            name: NotificationSla.model_validate(sla)
            for name, sla in (merchant.notification_slas or {}).items()
        },
    )


def schedule_of(merchant: Merchant) -> Schedule:
    hours = OpeningHours.model_validate(merchant.opening_hours or {})
    holidays = (date.fromisoformat(h["date"]) for h in merchant.holidays or [])
    return hours.schedule(merchant.timezone, holidays)


def get_merchant(session: Session, merchant_id: int) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound(f"merchant {merchant_id} does not exist")
    return merchant


def get_business_hours(session: Session, merchant_id: int) -> BusinessHours:
    return business_hours_of(get_merchant(session, merchant_id))


def set_business_hours(session: Session, merchant_id: int, hours: BusinessHours) -> BusinessHours:
    """Replace the whole set (PUT): a weekday or holiday left out is gone."""
    merchant = get_merchant(session, merchant_id)
    merchant.timezone = hours.timezone
    weekly = hours.weekly.model_dump()
    merchant.opening_hours = weekly if any(weekly.values()) else None
    merchant.holidays = [h.model_dump(mode="json") for h in hours.holidays]
    merchant.away_message = (hours.away_message or "").strip() or None
    merchant.notification_slas = {
        name: sla.model_dump() for name, sla in hours.notification_slas.items()
    }
    session.flush()
    return business_hours_of(merchant)
