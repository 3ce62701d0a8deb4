"""The merchant's own templates: every template of their WhatsApp Business Account, not
only the roles we ship, kept as rows without a role so operators can choose among them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from channels.whatsapp import RemoteTemplate
from observability.logs import get_logger
from persistence.models import MessageTemplate
from services.templates.defaults import normalize_language

log = get_logger(__name__)

GONE = "DELETED"  # a template no longer in the business account


def import_remote(
    session: Session,
    *,
    merchant_id: int,
    remote: Iterable[RemoteTemplate],
    rows: list[MessageTemplate],
) -> list[MessageTemplate]:
    """Add a row for each remote template no row holds yet (by name and language), and mark
    imported rows whose template was deleted; the new rows."""
    known = {(row.name, normalize_language(row.language)) for row in rows}
    listed = list(remote)
    added = []
    for template in listed:
        if (template.name, normalize_language(template.language)) in known:
            continue
        row = MessageTemplate(
            merchant_id=merchant_id, role=None, name=template.name,
            language=template.language, category=(template.category or "UTILITY")[:16],
            body=body_text(template.components), parameters=[],
            components=list(template.components), parameter_format=template.parameter_format,
            status=template.status.upper()[:24], meta_template_id=template.id or None,
        )  # fmt: skip
        session.add(row)
        added.append(row)
        known.add((template.name, normalize_language(template.language)))
    present = {(t.name, normalize_language(t.language)) for t in listed}
    for row in rows:
        if row.role is None and (row.name, normalize_language(row.language)) not in present:
            row.status = GONE
    session.flush()
    log.info("templates.imported", merchant_id=merchant_id, added=len(added))
    return added


def refresh_components(row: MessageTemplate, template: RemoteTemplate) -> None:
    """Meta's current components of a template we hold (an edit in WhatsApp Manager)."""
    if not template.components:
        return
    row.components = list(template.components)
    row.parameter_format = template.parameter_format
    if row.role is None:
        row.body = body_text(template.components)
        row.category = (template.category or row.category)[:16]


def body_text(components: Iterable[dict[str, object]]) -> str:
    body = next((c for c in components if str(c.get("type")).upper() == "BODY"), {})
    return str(body.get("text") or "")
