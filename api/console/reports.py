"""The Reports page: the figures of GET /api/v1/reports over a date range, with
server-drawn charts and a link to the CSV export."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.console import charts
from api.console.auth import ConsoleUserDep
from api.console.templating import render
from api.deps import SessionDep
from services.errors import InvalidInput
from services.reports import service

router = APIRouter(prefix="/console/reports", include_in_schema=False)


def _charts(merchant: dict[str, Any]) -> dict[str, Any]:
    days = [(d["day"][5:], d["conversations"]) for d in merchant["days"]]
    response = [(d["day"][5:], round(d["first_response_median"] or 0)) for d in merchant["days"]]
    labels = list(merchant["labels"].items())
    return {
        "per_day": charts.level_bars(days) if days else None,
        "response": charts.level_bars(response) if response else None,
        "labels": charts.level_bars(labels) if labels else None,
    }


@router.get("")
def reports_page(
    request: Request,
    db: SessionDep,
    user: ConsoleUserDep,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    last = last or datetime.now(UTC).date()
    first = first or last - timedelta(days=29)
    error = None
    try:
        data = service.report(db, first=first, last=last, merchant_id=user.principal.scope())
    except InvalidInput as exc:
        error, data = str(exc), {"merchants": []}
    merchants = [{**m, "charts": _charts(m)} for m in data["merchants"]]
    csv_link = f"/console/reports/export.csv?from={first.isoformat()}&to={last.isoformat()}"
    return render(request, "reports.html", {
        "user": user, "first": first.isoformat(), "last": last.isoformat(), "error": error,
        "merchants": merchants, "csv_link": csv_link,
    }, status_code=422 if error else 200)  # fmt: skip


@router.get("/export.csv")
def reports_csv(
    db: SessionDep,
    user: ConsoleUserDep,
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
) -> Response:
    """The same figures as CSV (the console's session, not a bearer token)."""
    data = service.report(db, first=first, last=last, merchant_id=user.principal.scope())
    name = f"report-{first.isoformat()}-{last.isoformat()}.csv"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(service.as_csv(data), media_type="text/csv", headers=disposition)
