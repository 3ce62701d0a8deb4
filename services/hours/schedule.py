"""Business time: when a merchant is open, and time counted only while it is.

Pure functions over a `Schedule` (time zone, weekly intervals, holidays). Every instant
in and out is an aware datetime; arithmetic happens in UTC, because subtracting two
datetimes of the same ZoneInfo gives wall-clock time, wrong across a DST change.

- A range whose closing time is earlier than its opening (`22:00-02:00`) runs overnight
  into the next day; it belongs to the day it opens on (a holiday on that day removes it).
- A holiday closes the whole local date.
- A schedule with no hours on any day is always open: a merchant who set no hours has
  their timers counted in plain time, as before business hours existed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]  # UTC, start < end
# far enough to skip a year of holidays, near enough to stay cheap
_HORIZON_DAYS = 400


@dataclass(frozen=True)
class Schedule:
    timezone: str = "UTC"
    # weekday (Monday 0) -> (opens, closes); closes <= opens runs past midnight,
    # closes == time(0) with opens == time(0) is the whole day
    weekly: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @property
    def always_open(self) -> bool:
        return not any(self.weekly.values())

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("business time needs aware datetimes")
    return at.astimezone(UTC)


def _day_intervals(schedule: Schedule, day: date) -> Iterator[Interval]:
    if day in schedule.holidays:
        return
    zone = schedule.zone
    for opens, closes in schedule.weekly.get(day.weekday(), ()):
        end_day = day if closes > opens else day + timedelta(days=1)
        start = datetime.combine(day, opens, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(end_day, closes, tzinfo=zone).astimezone(UTC)
        if end > start:  # a range lost entirely in a DST gap is no range
            yield start, end


def intervals(schedule: Schedule, start: datetime, end: datetime) -> list[Interval]:
    """The open intervals overlapping [start, end), merged and in order (not clipped)."""
    start, end = _utc(start), _utc(end)
    zone = schedule.zone
    # the day before: its overnight ranges reach into the first day
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    found: list[Interval] = []
    while day <= last:
        found.extend(i for i in _day_intervals(schedule, day) if i[1] > start and i[0] < end)
        day += timedelta(days=1)
    return _merge(sorted(found))


def _merge(ordered: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for begin, finish in ordered:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def open_interval(schedule: Schedule, at: datetime) -> Interval | None:
    """The (merged) interval `at` falls in, or None when closed."""
    at = _utc(at)
    for begin, finish in intervals(schedule, at, at + timedelta(microseconds=1)):
        if begin <= at < finish:
            return begin, finish
    return None


def is_open(schedule: Schedule, at: datetime) -> bool:
    return schedule.always_open or open_interval(schedule, at) is not None


def next_opening(schedule: Schedule, at: datetime) -> datetime | None:
    """When the business next opens: `at` itself when open, None when it never opens
    within the horizon (no hours, or holidays all the way)."""
    if is_open(schedule, at):
        return _utc(at)
    at = _utc(at)
    for begin, _ in intervals(schedule, at, at + timedelta(days=_HORIZON_DAYS)):
        if begin > at:
            return begin
    return None


def last_closing(schedule: Schedule, at: datetime) -> datetime | None:
    """When the business last closed before `at` (while it is closed): the start of the
    current closed period; None when open, or no closing within the horizon."""
    if is_open(schedule, at):
        return None
    at = _utc(at)
    before = [i for i in intervals(schedule, at - timedelta(days=_HORIZON_DAYS), at) if i[1] <= at]
    return before[-1][1] if before else None


def business_time_between(schedule: Schedule, start: datetime, end: datetime) -> timedelta:
    """Open time within [start, end); zero when end is not after start."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return timedelta(0)
    if schedule.always_open:
        return end - start
    total = timedelta(0)
    for begin, finish in intervals(schedule, start, end):
        total += min(finish, end) - max(begin, start)
    return total


def add_business_time(schedule: Schedule, start: datetime, duration: timedelta) -> datetime:
    """The instant by which `duration` of open time has passed since `start`. A zero
    duration from a closed instant is the next opening."""
    start = _utc(start)
    if schedule.always_open:
        return start + duration
    left, cursor = duration, start
    while True:
        window_end = cursor + timedelta(days=_HORIZON_DAYS)
        found = intervals(schedule, cursor, window_end)
        if not found:
            raise ValueError("the schedule never opens; business time cannot pass")
        for begin, finish in found:
            begin = max(begin, cursor)
            if begin + left <= finish:
                return begin + left
            left -= finish - begin
        cursor = window_end
