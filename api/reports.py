"""Reports: GET /api/v1/reports (JSON, or CSV with format=csv)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from api.deps import PrincipalDep, SessionDep
from services.reports import service

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.get("/reports", responses={404: {}, 422: {}})
def reports(
    session: SessionDep,
    principal: PrincipalDep,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
    merchant_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """Per merchant, per day and per operator: conversations, first response and resolution
    times (median, p90; seconds), AI resolution rate, escalations, CSAT and labels. The
    range defaults to the last 30 days (UTC dates, both ends included)."""
    last = last or datetime.now(UTC).date()
    first = first or last - timedelta(days=29)
    data = service.report(
        session, first=first, last=last, merchant_id=service.scope(principal, merchant_id)
    )
    if format == "csv":
        name = f"report-{first.isoformat()}-{last.isoformat()}.csv"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(service.as_csv(data), media_type="text/csv", headers=disposition)
    return data
