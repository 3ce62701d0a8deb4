"""Jinja2 for the console (and the sandbox, which shares its layout): filters, the
navigation, and security headers on every page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from services.merchants.quality import quality_warnings
from settings import get_settings

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

# Pages answer with these: nothing from elsewhere runs, nothing frames the console, and
# conversations are never cached by the browser or a proxy.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        # business profile photos are shown from WhatsApp's own host
        "default-src 'self'; img-src 'self' data: blob: https://pps.whatsapp.net; "
        "media-src 'self' blob:; "
        "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    sandbox_only: bool = False
    admin_only: bool = False


# Each page is its own module under api/console/; a new page adds its entry here.
NAV: tuple[NavItem, ...] = (
    NavItem("/console/inbox", "Inbox"),
    NavItem("/console/notifications", "Notifications"),
    NavItem("/console/documents", "Knowledge"),
    NavItem("/console/media", "Media"),
    NavItem("/console/store", "Store"),
    NavItem("/console/stats", "Stats"),
    NavItem("/console/reports", "Reports"),
    NavItem("/console/templates", "Templates"),
    NavItem("/console/settings/whatsapp", "Connect WhatsApp", admin_only=True),
    NavItem("/console/settings", "Settings", admin_only=True),
    NavItem("/sandbox", "Sandbox", sandbox_only=True),
)


def ago(value: datetime | None) -> str:
    if value is None:
        return ""
    return duration((datetime.now(UTC) - value).total_seconds()) + " ago"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def clock(value: datetime | None) -> str:
    """UTC time of day (with the date when it is not today)."""
    if value is None:
        return ""
    value = value.astimezone(UTC)
    if value.date() == datetime.now(UTC).date():
        return value.strftime("%H:%M")
    return value.strftime("%d %b %H:%M")


def iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def make_templates(*extra: Path) -> Jinja2Templates:
    directories: Sequence[Path] = (*extra, TEMPLATES)
    templates = Jinja2Templates(directory=list(directories))
    env = templates.env
    env.filters.update(ago=ago, duration=duration, clock=clock, iso=iso)
    env.globals["nav"] = NAV
    return templates


templates = make_templates()


def page(
    templates: Jinja2Templates,
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    """Render a page (or a fragment) with what every console template may use."""
    user = context.get("user")
    base = {
        "sandbox_active": get_settings().sandbox_active,
        "csrf_token": user.csrf_token if user else "",
        "flashes": user.pop_flashes() if user and not name.startswith("_") else [],
        "current_path": request.url.path,
        "quality_warnings": quality_warnings(user.principal.merchant_id)
        if user and not name.startswith("_")
        else [],
    }
    return templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status_code, headers=SECURITY_HEADERS
    )


def render(request: Request, name: str, context: dict[str, Any], **kwargs: Any) -> Response:
    return page(templates, request, name, context, **kwargs)
