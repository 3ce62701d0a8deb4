"""Business time (services.hours.schedule): open or not, next opening, time counted only
while open, across DST changes, overnight ranges and holidays."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.hours.schedule import (
    Schedule,
    add_business_time,
    business_time_between,
    is_open,
    last_closing,
    next_opening,
)
from services.hours.weekly import OpeningHours

MADRID = ZoneInfo("Europe/Madrid")
WEEKDAYS = OpeningHours(
    mon=["09:00-17:00"], tue=["09:00-17:00"], wed=["09:00-17:00"], thu=["09:00-17:00"],
    fri=["09:00-17:00"],
)  # fmt: skip
OFFICE = WEEKDAYS.schedule("Europe/Madrid")
BAR = OpeningHours(fri=["20:00-02:00"], sat=["20:00-02:00"]).schedule("Europe/Madrid")


def local(text: str) -> datetime:
    """A Madrid wall-clock instant."""
    return datetime.fromisoformat(text).replace(tzinfo=MADRID)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026-12-02T08:59", False),
        ("2026-12-02T09:00", True),
        ("2026-12-02T16:59", True),
        ("2026-12-02T17:00", False),  # closing time is already closed
        ("2026-12-05T10:00", False),  # Saturday
    ],
)
def test_open_means_inside_a_range_of_that_local_day(when: str, expected: bool) -> None:
    assert is_open(OFFICE, local(when)) is expected


def test_an_overnight_range_belongs_to_the_day_it_opens_on() -> None:
    assert is_open(BAR, local("2026-12-05T01:30"))  # Saturday night, Friday's range
    assert is_open(BAR, local("2026-12-06T01:30"))  # Sunday night, Saturday's range
    assert not is_open(BAR, local("2026-12-07T01:30"))  # Monday: Sunday has no range
    assert business_time_between(
        BAR, local("2026-12-04T19:00"), local("2026-12-05T03:00")
    ) == timedelta(hours=6)


def test_next_opening_skips_the_weekend_and_holidays() -> None:
    friday_evening = local("2026-12-04T18:00")
    assert next_opening(OFFICE, friday_evening) == local("2026-12-07T09:00").astimezone(UTC)
    holidays = Schedule(OFFICE.timezone, OFFICE.weekly, frozenset({date(2026, 12, 7)}))
    assert next_opening(holidays, friday_evening) == local("2026-12-08T09:00").astimezone(UTC)
    assert next_opening(OFFICE, local("2026-12-02T10:00")) == local("2026-12-02T10:00")


def test_last_closing_is_the_start_of_the_current_closed_period() -> None:
    saturday = local("2026-12-05T12:00")
    assert last_closing(OFFICE, saturday) == local("2026-12-04T17:00").astimezone(UTC)
    assert last_closing(OFFICE, local("2026-12-02T10:00")) is None


def test_business_time_skips_nights_weekends_and_holidays() -> None:
    friday_4pm, monday_10am = local("2026-12-04T16:00"), local("2026-12-07T10:00")
    assert business_time_between(OFFICE, friday_4pm, monday_10am) == timedelta(hours=2)
    closed_monday = Schedule(OFFICE.timezone, OFFICE.weekly, frozenset({date(2026, 12, 7)}))
    assert business_time_between(closed_monday, friday_4pm, monday_10am) == timedelta(hours=1)
    assert business_time_between(OFFICE, monday_10am, friday_4pm) == timedelta(0)


def test_adding_business_time_carries_over_the_closed_hours() -> None:
    friday_4pm = local("2026-12-04T16:00")
    due = add_business_time(OFFICE, friday_4pm, timedelta(hours=2))
    assert due == local("2026-12-07T10:00").astimezone(UTC)
    assert add_business_time(OFFICE, local("2026-12-05T12:00"), timedelta(0)) == (
        local("2026-12-07T09:00").astimezone(UTC)
    )


def test_the_spring_forward_night_is_an_hour_shorter_for_a_24_hour_business() -> None:
    always = OpeningHours(**{day: ["00:00-24:00"] for day in ("sat", "sun", "mon")})
    schedule = always.schedule("Europe/Madrid")
    # 29 March 2026: clocks jump from 02:00 to 03:00 in Madrid
    start, end = local("2026-03-28T12:00"), local("2026-03-29T12:00")
    assert business_time_between(schedule, start, end) == timedelta(hours=23)
    assert is_open(schedule, local("2026-03-29T03:30"))


def test_the_fall_back_day_has_an_extra_hour_of_business() -> None:
    night_shift = OpeningHours(sat=["22:00-06:00"]).schedule("Europe/Madrid")
    # 25 October 2026: clocks go back from 03:00 to 02:00, so 22:00-06:00 lasts 9 hours
    start, end = local("2026-10-24T12:00"), local("2026-10-25T12:00")
    assert business_time_between(night_shift, start, end) == timedelta(hours=9)
    due = add_business_time(night_shift, local("2026-10-24T22:00"), timedelta(hours=8, minutes=30))
    assert due.astimezone(MADRID).hour == 5 and due.astimezone(MADRID).minute == 30


def test_daytime_hours_keep_their_wall_clock_across_the_change() -> None:
    friday = local("2026-10-23T16:00")  # CEST (UTC+2)
    monday = add_business_time(OFFICE, friday, timedelta(hours=2))  # Monday is CET (UTC+1)
    assert monday.astimezone(MADRID).replace(tzinfo=None) == datetime(2026, 10, 26, 10, 0)


def test_with_no_hours_set_every_moment_is_business_time() -> None:
    plain = Schedule("Europe/Madrid")
    start = local("2026-12-05T12:00")
    assert is_open(plain, start)
    assert business_time_between(plain, start, start + timedelta(days=2)) == timedelta(days=2)
    assert add_business_time(plain, start, timedelta(hours=5)) == start + timedelta(hours=5)


def test_a_holiday_on_the_only_open_day_moves_the_opening_a_week() -> None:
    holiday = date(2026, 12, 7)
    only_that_monday = OpeningHours(mon=["09:00-10:00"]).schedule("UTC", [holiday])
    assert next_opening(only_that_monday, local("2026-12-06T12:00")) == datetime(
        2026, 12, 14, 9, tzinfo=UTC
    )


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        is_open(OFFICE, datetime(2026, 12, 2, 10))
