"""Templates a person chooses by name (an operator writing outside the window): checked
against the merchant's own templates as Meta would check them, before anything is sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import MessageTemplate
from services.errors import InvalidInput
from services.templates.defaults import PLACEHOLDER, pick_language
from services.templates.shape import TemplateShape, shape_of
from services.templates.templates import (
    ResolvedTemplate,
    TemplateMessage,
    build,
    clean_parameter,
)

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
    placeholders: int  # header parameter first, then the body's
    category: str = "UTILITY"
    status: str = APPROVED
    header: str | None = None
    unsupported: str | None = None  # why it cannot be sent from here yet
    quality: str | None = None  # Meta's quality score: GREEN, YELLOW, RED, UNKNOWN


def template_options(session: Session, merchant_id: int) -> list[TemplateOption]:
    return [option_of(t) for t in approved_templates(session, merchant_id)]


def option_of(template: MessageTemplate) -> TemplateOption:
    shape = shape_of(template)
    return TemplateOption(
        template.name, template.language, shape.body, shape.parameter_count,
        category=template.category, status=template.status, header=shape.header,
        unsupported=shape.unsupported, quality=template.quality,
    )  # fmt: skip


def list_options(
    session: Session, merchant_id: int, *, status: str | None = None
) -> list[TemplateOption]:
    """Every template of the merchant (ours and their own), optionally of one status."""
    stmt = select(MessageTemplate).where(MessageTemplate.merchant_id == merchant_id)
    if status:
        stmt = stmt.where(MessageTemplate.status == status.upper())
    stmt = stmt.order_by(MessageTemplate.name, MessageTemplate.language)
    return [option_of(t) for t in session.scalars(stmt)]


def chosen_template(
    session: Session,
    *,
    merchant_id: int,
    name: str,
    language: str,
    parameters: Sequence[str],
    header: Sequence[str] = (),
) -> TemplateMessage:
    """The template `name` in `language`, filled with `parameters` in order ({{1}}, {{2}}...)
    and `header` for a text header's {{1}} (when not given, a header parameter is taken
    from the front of `parameters`, as the console sends them); InvalidInput (422) with
    the reason when WhatsApp would refuse it or we cannot fill it yet."""
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
    shape = shape_of(row)
    if shape.unsupported:
        raise InvalidInput(shape.unsupported)
    header, parameters = _split(shape, list(header), list(parameters))
    if len(header) != shape.header_parameters:
        raise InvalidInput(
            f"template {name!r} takes {shape.header_parameters} header parameter(s), "
            f"got {len(header)}"
        )
    expected = shape.body_parameters
    if len(parameters) != expected:
        raise InvalidInput(
            f"template {name!r} takes {expected} parameter(s) for its body placeholders, "
            f"got {len(parameters)}"
        )
    slots = tuple(str(n) for n in range(1, expected + 1))
    filled = ResolvedTemplate(
        name=row.name, language=row.language, body=shape.body, parameters=slots
    )
    return _with_header(build(filled, dict(zip(slots, parameters, strict=True))), shape, header)


def _split(
    shape: TemplateShape, header: list[str], parameters: list[str]
) -> tuple[list[str], list[str]]:
    if header or not shape.header_parameters:
        return header, parameters
    if len(parameters) == shape.parameter_count:
        return parameters[: shape.header_parameters], parameters[shape.header_parameters :]
    return [], parameters


def _with_header(
    message: TemplateMessage, shape: TemplateShape, values: list[str]
) -> TemplateMessage:
    if shape.header is None:
        return message
    texts = tuple(clean_parameter(value)[:60] for value in values)
    title = PLACEHOLDER.sub(lambda match: texts[int(match.group(1)) - 1], shape.header)
    return TemplateMessage(replace(message.template, header=texts), f"{title}\n{message.text}")


@dataclass(frozen=True)
class TemplateChoice:
    """A template a person picked: its name, language and body parameters in order."""

    name: str
    language: str
    parameters: tuple[str, ...] = ()
    header: tuple[str, ...] = ()  # a text header's {{1}}
