from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from services.hours.weekly import OpeningHours, valid_timezone
from services.merchants.hours import describe_opening, describe_status, describe_time

SHOP = OpeningHours(
    mon=["09:00-14:00", "16:00-20:00"], tue=["09:00-20:00"], wed=["09:00-20:00"],
    thu=["09:00-20:00"], fri=["09:00-20:00"], sat=["10:00-14:00"],
)  # fmt: skip
MADRID = "Europe/Madrid"


def at(text: str) -> datetime:
    """A UTC instant; Madrid is UTC+1 in winter."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("utc", "status"),
    [
        ("2026-11-30T09:30", "open until 14:00"),  # Monday 10:30 in Madrid
        ("2026-11-30T13:30", "closed; opens today at 16:00"),  # the lunch break
        ("2026-11-30T19:30", "closed; opens tomorrow at 09:00"),  # Monday 20:30
        ("2026-12-05T14:00", "closed; opens Monday at 09:00"),  # Saturday 15:00
        ("2026-12-06T10:00", "closed; opens tomorrow at 09:00"),  # Sunday
    ],
)
def test_the_status_is_computed_in_the_merchants_time_zone(utc: str, status: str) -> None:
    assert describe_status(SHOP, MADRID, at(utc)) == status


def test_a_day_open_until_midnight() -> None:
    late = OpeningHours(fri=["18:00-24:00"])
    assert describe_status(late, "UTC", at("2026-12-04T23:30")) == "open until midnight"


def test_no_hours_on_any_day_says_so() -> None:
    assert describe_status(OpeningHours(), "UTC", at("2026-12-04T10:00")).endswith(
        "no opening hours are set for any day"
    )


def test_the_prompt_line_names_every_day_and_the_status() -> None:
    line = describe_opening(SHOP.model_dump(), MADRID, at("2026-11-30T09:30"))
    assert line.startswith("Opening hours (local time): Monday: 09:00-14:00, 16:00-20:00;")
    assert "Sunday: closed." in line and line.endswith("Right now: open until 14:00.")
    assert describe_opening(None, MADRID, at("2026-11-30T09:30")) == ""


def test_local_time_is_spelled_out() -> None:
    assert describe_time(MADRID, at("2026-11-30T14:04")) == (
        "Monday 30 November 2026, 15:04 (Europe/Madrid)"
    )


@pytest.mark.parametrize(
    "bad", [{"mon": ["9-18"]}, {"mon": ["09:00-09:00"]}, {"mon": ["09:00-25:00"]}, {"xyz": []}]
)
def test_malformed_hours_are_refused(bad: dict) -> None:
    with pytest.raises(ValidationError):
        OpeningHours.model_validate(bad)


@pytest.mark.parametrize("bad", ["Mars/Olympus", "../../etc/passwd", ""])
def test_unknown_time_zones_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="IANA"):
        valid_timezone(bad)


def test_an_overnight_range_is_open_past_midnight_and_says_until_when() -> None:
    bar = OpeningHours(fri=["20:00-02:00"])
    assert describe_status(bar, "UTC", at("2026-12-05T01:00")) == "open until 02:00"  # Sat
    assert describe_status(bar, "UTC", at("2026-12-05T03:00")) == "closed; opens Friday at 20:00"


def test_a_holiday_closes_the_day_and_the_status_names_the_next_opening() -> None:
    from datetime import date

    status = describe_status(SHOP, MADRID, at("2026-12-08T09:30"), [date(2026, 12, 8)])
    assert status == "closed; opens tomorrow at 09:00"
