"""The business-hours form of the console Settings page: plain text fields a phone can
edit (one line of ranges per weekday, one holiday per line), read into the same schema as
PUT /api/v1/merchants/{id}/business-hours."""

from __future__ import annotations

from typing import Any

from services.hours.business import BusinessHours
from services.hours.weekly import DAYS

DAY_LABELS = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                             "Saturday", "Sunday"), strict=True))  # fmt: skip
SLA_TYPES = {"user_question_request": "Questions", "user_support_request": "Support requests"}


def form_values(hours: BusinessHours) -> dict[str, Any]:
    """The stored hours as the form shows them."""
    return {
        "timezone": hours.timezone,
        "days": {day: ", ".join(getattr(hours.weekly, day)) for day in DAYS},
        "holidays": "\n".join(f"{h.date.isoformat()} {h.name}".strip() for h in hours.holidays),
        "away_message": hours.away_message or "",
        "slas": {
            name: hours.notification_slas.get(name) for name in SLA_TYPES
        },
    }


def body_from_form(form: dict[str, str]) -> dict[str, Any]:
    """The form's fields as the API body (validated by the caller)."""
    weekly = {
        day: [r.strip() for r in form.get(f"day_{day}", "").split(",") if r.strip()]
        for day in DAYS
    }
    holidays = []
    for line in form.get("holidays", "").splitlines():
        if line.strip():
            when, _, name = line.strip().partition(" ")
            holidays.append({"date": when, "name": name.strip()})
    slas = {}
    for name in SLA_TYPES:
        target = form.get(f"sla_{name}_target", "").strip()
        close = form.get(f"sla_{name}_close", "").strip()
        if target:
            slas[name] = {"target_minutes": target, "close_after_minutes": close or None}
    return {
        "timezone": form.get("timezone", "").strip() or "UTC",
        "weekly": weekly,
        "holidays": holidays,
        "away_message": form.get("away_message") or None,
        "notification_slas": slas,
    }
