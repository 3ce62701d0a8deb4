"""A merchant's time zone and weekly opening hours, and what they mean right now.

The model is told the local time and whether the business is open in words computed
here: models are poor at time-zone and weekday arithmetic, and "are you open now?" is
one of the commonest questions a shop gets.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from services.hours.schedule import next_opening, open_interval
from services.hours.weekly import DAYS, OpeningHours

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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


def describe_status(
    hours: OpeningHours, timezone: str, now: datetime, holidays: Iterable[date] = ()
) -> str:
    """'open until 18:00' or 'closed; opens Monday at 09:00'."""
    schedule = hours.schedule(timezone, holidays)
    if schedule.always_open:
        return "closed; no opening hours are set for any day"
    zone = ZoneInfo(timezone)
    current = open_interval(schedule, now)
    if current is not None:
        until = current[1].astimezone(zone)
        return f"open until {'midnight' if until.time() == time(0) else f'{until:%H:%M}'}"
    opening = next_opening(schedule, now)
    if opening is None:
        return "closed; no opening is coming in the next months"
    return f"closed; opens {describe_opening_day(opening, timezone, now)}"


def describe_opening_day(opening: datetime, timezone: str, now: datetime) -> str:
    """'today at 09:00', 'tomorrow at 09:00', 'Monday at 09:00' or '25 December at 09:00'."""
    zone = ZoneInfo(timezone)
    local, today = opening.astimezone(zone), now.astimezone(zone).date()
    days_ahead = (local.date() - today).days
    if days_ahead == 0:
        when = "today"
    elif days_ahead == 1:
        when = "tomorrow"
    elif days_ahead < 7:
        when = _DAY_NAMES[local.weekday()]
    else:
        when = f"{_DAY_NAMES[local.weekday()]} {local:%-d %B}"
    return f"{when} at {local:%H:%M}"


def describe_opening(
    hours: dict | None, timezone: str, now: datetime, holidays: Iterable[date] = ()
) -> str:
    """The opening hours and whether the business is open right now, for the prompt; empty
    when the merchant gave no hours."""
    if not hours:
        return ""
    weekly = OpeningHours.model_validate(hours)
    return (
        f"Opening hours (local time): {describe_hours(weekly)}. "
        f"Right now: {describe_status(weekly, timezone, now, holidays)}."
    )
