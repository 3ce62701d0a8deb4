"""The Templates page: the merchant's WhatsApp message templates with Meta's review status
and quality score (message_template_quality_update), so a template going YELLOW or RED is
seen before Meta pauses it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.console.auth import ConsoleUserDep
from api.console.templating import render
from api.deps import SessionDep
from services.merchants import merchant as merchants
from services.templates.chosen import list_options

router = APIRouter(prefix="/console/templates", include_in_schema=False)


@router.get("")
def templates_page(request: Request, db: SessionDep, user: ConsoleUserDep) -> Response:
    """The caller's merchant's templates; a platform admin sees every merchant's."""
    shown = merchants.list_merchants(db, merchant_id=user.principal.scope())
    groups = [(m.name, list_options(db, m.id)) for m in shown]
    return render(request, "message_templates.html", {"user": user, "groups": groups})
