"""The conversation inbox: filters, unanswered counts and waiting times, updated live."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.console.auth import ConsoleUser, ConsoleUserDep
from api.console.templating import render
from api.deps import SessionDep
from services.conversations.inbox import CHANNEL_LABELS, VIEWS, InboxView, inbox, view_counts
from services.conversations.search import ConversationFilter
from services.desk import presence
from services.desk.labels import merchant_labels
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


# the desk's tabs, across the views: the caller's conversations, and nobody's
DESK_TABS = {"": "Everyone's", "mine": "Mine", "unassigned": "Unassigned"}


@dataclass(frozen=True)
class DeskFilter:
    assigned: str = ""  # "", mine, unassigned
    label: str = ""
    q: str = ""
    channel: str = ""  # a channel account type, "" for every channel

    def query(self) -> str:
        """The filter as URL parameters, for the tabs' links and the poll."""
        return urlencode({k: v for k, v in vars(self).items() if v})

    def of(self, user: ConsoleUser) -> ConversationFilter:
        assigned: int | Literal["none"] | None = None
        if self.assigned == "mine":
            assigned = user.principal.operator_id or 0  # the admin token has no conversations
        elif self.assigned == "unassigned":
            assigned = "none"
        label = self.label.strip()
        return ConversationFilter(
            assigned_to=assigned,
            label=" ".join(label.split()).lower() or None,
            q=self.q.strip()[:200] or None,
            channel=self.channel or None,
        )


def _desk(assigned: str, label: str, q: str, channel: str = "") -> DeskFilter:
    return DeskFilter(
        assigned if assigned in DESK_TABS else "", label[:60], q[:200],
        channel if channel in CHANNEL_LABELS else "",
    )  # fmt: skip


def _context(
    db: Session, view: str, merchant_id: int | None, user: ConsoleUser, desk: DeskFilter
) -> dict[str, Any]:
    chosen: InboxView = view if view in VIEWS else "all"
    presence.seen(db, user.principal.operator_id)  # the inbox polls: the operator is here
    return {
        "desk": desk,
        "desk_tabs": DESK_TABS,
        "view": chosen,
        "views": [(v, VIEW_LABELS[v], VIEW_HELP[v]) for v in VIEWS],
        "view_help": VIEW_HELP[chosen],
        "merchant_id": merchant_id,
        "rows": inbox(db, view=chosen, merchant_id=merchant_id, filters=desk.of(user)),
        "counts": view_counts(db, merchant_id=merchant_id),
        "channels": CHANNEL_LABELS,
    }


@router.get("/inbox")
def inbox_page(
    request: Request,
    db: SessionDep,
    user: ConsoleUserDep,
    view: str = "all",
    merchant_id: int | None = None,
    assigned: str = "",
    label: str = "",
    q: str = "",
    channel: str = "",
) -> Response:
    scoped = user.principal.scope(merchant_id)
    context = _context(db, view, scoped, user, _desk(assigned, label, q, channel))
    labels = merchant_labels(db, merchant_id=scoped)
    merchants = list_merchants(db, merchant_id=user.principal.scope())
    context.update(user=user, merchants=merchants, labels=labels)
    return render(request, "inbox.html", context)


@router.get("/inbox/rows")
def inbox_rows(
    request: Request,
    db: SessionDep,
    user: ConsoleUserDep,
    view: str = "all",
    merchant_id: int | None = None,
    assigned: str = "",
    label: str = "",
    q: str = "",
    channel: str = "",
) -> Response:
    """The live part of the inbox, polled by the page."""
    desk = _desk(assigned, label, q, channel)
    context = _context(db, view, user.principal.scope(merchant_id), user, desk)
    return render(request, "_inbox_rows.html", {**context, "user": user})
