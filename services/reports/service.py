"""The report over a date range: per merchant its totals, days, operators, escalations,
CSAT and labels; and the same as CSV rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from services.access.auth import Principal
from services.errors import InvalidInput, NotFound
from services.reports.queries import rows

MAX_DAYS = 366
_FIGURES = (
    "conversations", "resolved", "ai_resolved", "ai_resolution_rate",
    "first_response_median", "first_response_p90", "human_first_response_median",
    "human_first_response_p90", "resolution_median", "resolution_p90",
)  # fmt: skip
CSV_COLUMNS = ("merchant_id", "day", *_FIGURES)


def scope(principal: Principal, merchant_id: int | None) -> int | None:
    """The merchant the caller may report on: their own, whatever they ask for another."""
    if principal.merchant_id is None:
        return merchant_id
    if merchant_id not in (None, principal.merchant_id):
        raise NotFound(f"merchant {merchant_id} not found")
    return principal.merchant_id


def report(session: Session, *, first: date, last: date, merchant_id: int | None) -> dict[str, Any]:
    if last < first:
        raise InvalidInput("'to' is before 'from'")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(f"a report covers at most {MAX_DAYS} days")
    start = datetime.combine(first, time.min, tzinfo=UTC)
    end = start + timedelta(days=(last - first).days + 1)

    def fetch(name: str) -> list[dict[str, Any]]:
        return rows(session, name, start=start, end=end, merchant_id=merchant_id)

    merchants: dict[int, dict[str, Any]] = {}

    def of(merchant: int) -> dict[str, Any]:
        return merchants.setdefault(merchant, {
            "merchant_id": merchant, "totals": _figures({}), "days": [], "operators": [],
            "escalations": {"opened": 0, "answered": 0, "time_to_answer_median": None,
                            "time_to_answer_p90": None},
            "csat": None, "labels": {},
        })  # fmt: skip

    for row in fetch("conversations"):
        figures = _figures(row)
        if row["total"]:
            of(row["merchant_id"])["totals"] = figures
        else:
            of(row["merchant_id"])["days"].append({"day": row["day"].isoformat(), **figures})
    operators: dict[tuple[int, int | None], dict[str, Any]] = {}
    for row in fetch("operators"):
        entry = {"operator_id": row["operator_id"], "operator": row["operator"],
                 "conversations": row["conversations"], "messages": row["messages"],
                 "csat": None}  # fmt: skip
        operators[(row["merchant_id"], row["operator_id"])] = entry
        of(row["merchant_id"])["operators"].append(entry)
    for row in fetch("csat"):
        csat = _csat(row)
        if row["total"]:
            of(row["merchant_id"])["csat"] = csat
            continue
        key = (row["merchant_id"], row["operator_id"])
        if key not in operators:
            operators[key] = {"operator_id": row["operator_id"], "operator": row["operator"],
                              "conversations": 0, "messages": 0, "csat": None}  # fmt: skip
            of(row["merchant_id"])["operators"].append(operators[key])
        operators[key]["csat"] = csat
    for row in fetch("escalations"):
        of(row["merchant_id"])["escalations"] = {k: v for k, v in row.items() if k != "merchant_id"}
    for row in fetch("labels"):
        of(row["merchant_id"])["labels"][row["label"]] = row["conversations"]
    return {"from": first.isoformat(), "to": last.isoformat(),
            "merchants": [merchants[m] for m in sorted(merchants)]}  # fmt: skip


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    conversations = row.get("conversations", 0)
    resolved, ai_resolved = row.get("resolved", 0), row.get("ai_resolved", 0)
    timings = {name: _seconds(row.get(name)) for name in _FIGURES[4:]}
    rate = round(ai_resolved / resolved, 4) if resolved else None
    return {"conversations": conversations, "resolved": resolved, "ai_resolved": ai_resolved,
            "ai_resolution_rate": rate, **timings}  # fmt: skip


def _csat(row: dict[str, Any]) -> dict[str, Any]:
    responses = row["responses"]
    return {
        "responses": responses,
        "average": _round(row["average"]),
        "satisfied_rate": round(row["satisfied"] / responses, 4) if responses else None,
        "ai_only": {"responses": row["ai_only_responses"],
                    "average": _round(row["ai_only_average"])},
        "human": {"responses": row["human_responses"], "average": _round(row["human_average"])},
    }  # fmt: skip


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def as_csv(data: dict[str, Any]) -> str:
    """One line per merchant and day, then the merchant's total (day "total")."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for merchant in data["merchants"]:
        for day in [*merchant["days"], {"day": "total", **merchant["totals"]}]:
            writer.writerow([merchant["merchant_id"], day["day"], *(day[f] for f in _FIGURES)])
    return out.getvalue()
