"""The conversation inbox: filters, unanswered counts and waiting times, updated live."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.console.auth import ConsoleUserDep
from api.console.templating import render
from api.deps import SessionDep
from services.conversations.inbox import VIEWS, InboxView, inbox, view_counts
from services.merchants.merchant import list_merchants

router = APIRouter(prefix="/console", include_in_schema=False)

VIEW_LABELS = {"all": "All", "needs_human": "Needs human", "operator": "Operator", "ai": "AI"}
# What each tab holds; a row's badge names its tab (services.conversations.inbox.view_filter)
VIEW_HELP = {
    "all": "Every conversation: needing a person, with an operator, or with the AI.",
    "needs_human": "Waiting for a person: the AI asked for one or could not answer, and "
    "stays quiet until someone takes over.",
    "operator": "Taken over by an operator: the AI stays silent until they hand back.",
    "ai": "The AI is answering; take over any time.",
}


def _context(db: Session, view: str, merchant_id: int | None) -> dict[str, Any]:
    chosen: InboxView = view if view in VIEWS else "all"
    return {
        "view": chosen,
        "views": [(v, VIEW_LABELS[v], VIEW_HELP[v]) for v in VIEWS],
        "view_help": VIEW_HELP[chosen],
        "merchant_id": merchant_id,
        "rows": inbox(db, view=chosen, merchant_id=merchant_id),
        "counts": view_counts(db, merchant_id=merchant_id),
    }


@router.get("/inbox")
def inbox_page(
    request: Request,
    db: SessionDep,
    user: ConsoleUserDep,
    view: str = "all",
    merchant_id: int | None = None,
) -> Response:
    context = _context(db, view, user.principal.scope(merchant_id))
    context.update(user=user, merchants=list_merchants(db, merchant_id=user.principal.scope()))
    return render(request, "inbox.html", context)


@router.get("/inbox/rows")
def inbox_rows(
    request: Request,
    db: SessionDep,
    user: ConsoleUserDep,
    view: str = "all",
    merchant_id: int | None = None,
) -> Response:
    """The live part of the inbox, polled by the page."""
    context = _context(db, view, user.principal.scope(merchant_id))
    return render(request, "_inbox_rows.html", {**context, "user": user})
