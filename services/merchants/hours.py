"""A merchant's time zone and weekly opening hours, and what they mean right now.

The model is told the local time and whether the business is open in words computed
here: models are poor at time-zone and weekday arithmetic, and "are you open now?" is
one of the commonest questions a shop gets.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def valid_timezone(name: str) -> str:
    """An IANA time zone name such as Europe/Madrid."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        hint = "use an IANA name such as Europe/Madrid"
        raise ValueError(f"unknown time zone {name!r}; {hint}") from exc
    return name


def _valid_range(text: str) -> str:
    match = _RANGE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a range like 09:00-18:00")
    opens, closes = (int(match[1]), int(match[2])), (int(match[3]), int(match[4]))
    if closes <= opens or closes > (24, 0):
        raise ValueError(f"{text!r} must close after it opens, on the same day (at most 24:00)")
    return text


TimeRange = Annotated[str, AfterValidator(_valid_range)]
DayHours = Annotated[list[TimeRange], Field(max_length=4)]


class OpeningHours(BaseModel):
    """Weekly hours, e.g. {"mon": ["09:00-14:00", "16:00-20:00"], "sat": ["10:00-14:00"]};
    a day left out (or an empty list) is closed."""

    model_config = ConfigDict(extra="forbid")
    mon: DayHours = []
    tue: DayHours = []
    wed: DayHours = []
    thu: DayHours = []
    fri: DayHours = []
    sat: DayHours = []
    sun: DayHours = []

    def ranges(self, weekday: int) -> list[tuple[time, time]]:
        return [_parse(text) for text in getattr(self, DAYS[weekday])]


def _parse(text: str) -> tuple[time, time]:
    opens, closes = text.split("-")
    end = time.max if closes == "24:00" else time.fromisoformat(closes)
    return time.fromisoformat(opens), end


def local_now(timezone: str, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(timezone))


def describe_time(timezone: str, now: datetime) -> str:
    """'Monday 30 November 2026, 15:04 (Europe/Madrid)'."""
    local = local_now(timezone, now)
    return f"{_DAY_NAMES[local.weekday()]} {local:%-d %B %Y, %H:%M} ({timezone})"


def describe_hours(hours: OpeningHours) -> str:
    """One line per day, as a person would write them."""
    lines = []
    for weekday, day in enumerate(_DAY_NAMES):
        ranges = getattr(hours, DAYS[weekday])
        lines.append(f"{day}: {', '.join(ranges) if ranges else 'closed'}")
    return "; ".join(lines)


def describe_status(hours: OpeningHours, timezone: str, now: datetime) -> str:
    """'open until 18:00' or 'closed; opens Monday at 09:00'."""
    local = local_now(timezone, now)
    for opens, closes in hours.ranges(local.weekday()):
        if opens <= local.time() < closes:
            until = "midnight" if closes == time.max else f"{closes:%H:%M}"
            return f"open until {until}"
    for days_ahead in range(8):
        day = local.date() + timedelta(days=days_ahead)
        for opens, _ in hours.ranges(day.weekday()):
            if days_ahead or opens > local.time():
                when = (
                    "today"
                    if not days_ahead
                    else ("tomorrow" if days_ahead == 1 else _DAY_NAMES[day.weekday()])
                )
                return f"closed; opens {when} at {opens:%H:%M}"
    return "closed; no opening hours are set for any day"


def describe_opening(hours: dict | None, timezone: str, now: datetime) -> str:
    """The opening hours and whether the business is open right now, for the prompt; empty
    when the merchant gave no hours."""
    if not hours:
        return ""
    weekly = OpeningHours.model_validate(hours)
    return (
        f"Opening hours (local time): {describe_hours(weekly)}. "
        f"Right now: {describe_status(weekly, timezone, now)}."
    )
