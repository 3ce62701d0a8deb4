"""Templates a person chooses by name (an operator writing outside the window): checked
against the merchant's own templates as Meta would check them, before anything is sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import MessageTemplate
from services.errors import InvalidInput
from services.templates.defaults import PLACEHOLDER, pick_language
from services.templates.templates import ResolvedTemplate, TemplateMessage, build

APPROVED = "APPROVED"


def approved_templates(session: Session, merchant_id: int) -> list[MessageTemplate]:
    """The merchant's templates WhatsApp would send now, by name and language."""
    stmt = (
        select(MessageTemplate)
        .where(MessageTemplate.merchant_id == merchant_id, MessageTemplate.status == APPROVED)
        .order_by(MessageTemplate.name, MessageTemplate.language)
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class TemplateOption:
    """An approved template as a person picks it: what to send and how it reads."""

    name: str
    language: str
    body: str
    placeholders: int


def template_options(session: Session, merchant_id: int) -> list[TemplateOption]:
    return [
        TemplateOption(t.name, t.language, t.body, placeholder_count(t.body))
        for t in approved_templates(session, merchant_id)
    ]


def placeholder_count(body: str) -> int:
    return max((int(n) for n in PLACEHOLDER.findall(body)), default=0)


def chosen_template(
    session: Session, *, merchant_id: int, name: str, language: str, parameters: Sequence[str]
) -> TemplateMessage:
    """The template `name` in `language`, filled with `parameters` in order ({{1}}, {{2}}...);
    InvalidInput (422) with the reason when WhatsApp would refuse it."""
    rows = list(
        session.scalars(
            select(MessageTemplate).where(
                MessageTemplate.merchant_id == merchant_id, MessageTemplate.name == name
            )
        )
    )
    if not rows:
        known = ", ".join(sorted({t.name for t in approved_templates(session, merchant_id)}))
        raise InvalidInput(f"the merchant has no template {name!r} (approved: {known or 'none'})")
    code = pick_language([row.language for row in rows], language)
    same = [row for row in rows if row.language == code]
    if not same:
        languages = ", ".join(sorted({row.language for row in rows}))
        raise InvalidInput(f"template {name!r} has no {language!r} version (it has: {languages})")
    row = min(same, key=lambda t: t.status != APPROVED)  # an approved copy wins over a pending one
    if row.status != APPROVED:
        raise InvalidInput(
            f"template {name!r} ({row.language}) is {row.status} at WhatsApp, not APPROVED: "
            "it cannot be sent yet"
        )
    expected = placeholder_count(row.body)
    if len(parameters) != expected:
        raise InvalidInput(
            f"template {name!r} takes {expected} parameter(s) for its body placeholders, "
            f"got {len(parameters)}"
        )
    slots = tuple(str(n) for n in range(1, expected + 1))
    filled = ResolvedTemplate(name=row.name, language=row.language, body=row.body, parameters=slots)
    return build(filled, dict(zip(slots, parameters, strict=True)))


@dataclass(frozen=True)
class TemplateChoice:
    """A template a person picked: its name, language and body parameters in order."""

    name: str
    language: str
    parameters: tuple[str, ...] = ()
