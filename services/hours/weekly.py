"""Weekly opening hours and time zone names, as merchants give them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, time
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.hours.schedule import Schedule

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
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
    if closes > (24, 0):
        raise ValueError(f"{text!r} closes after 24:00; write an overnight range as 22:00-02:00")
    if closes == opens:
        raise ValueError(f"{text!r} opens and closes at the same time")
    return text


TimeRange = Annotated[str, AfterValidator(_valid_range)]
DayHours = Annotated[list[TimeRange], Field(max_length=4)]


class OpeningHours(BaseModel):
    """Weekly hours, e.g. {"mon": ["09:00-14:00", "16:00-20:00"], "sat": ["10:00-14:00"]};
    a day left out (or an empty list) is closed; "22:00-02:00" runs overnight."""

    model_config = ConfigDict(extra="forbid")
    mon: DayHours = []
    tue: DayHours = []
    wed: DayHours = []
    thu: DayHours = []
    fri: DayHours = []
    sat: DayHours = []
    sun: DayHours = []

    def ranges(self, weekday: int) -> list[tuple[time, time]]:
        """(opens, closes); closes <= opens runs past midnight (24:00 is the next 00:00)."""
        return [_parse(text) for text in getattr(self, DAYS[weekday])]

    def schedule(self, timezone: str, holidays: Iterable[date] = ()) -> Schedule:
        weekly = {day: tuple(self.ranges(day)) for day in range(7)}
        return Schedule(timezone=timezone, weekly=weekly, holidays=frozenset(holidays))


def _parse(text: str) -> tuple[time, time]:
    opens, closes = text.split("-")
    end = time(0) if closes == "24:00" else time.fromisoformat(closes)
    return time.fromisoformat(opens), end
