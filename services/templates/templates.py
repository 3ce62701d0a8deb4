"""WhatsApp message templates: choose one for a merchant and a language, fill it, queue it,
and keep Meta's copy in step (created through the Graph API, statuses from webhooks).

A template is the only message that reaches someone outside the 24-hour customer service
window, so staff requests and late answers to customers go out as templates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.base import OutboundTemplate
from observability.logs import get_logger
from persistence.models import Author, DeliveryStatus, Direction, Message, MessageTemplate
from services.merchants import merchant as merchants
from services.templates.defaults import (
    BODY_LIMIT,
    BUTTON_VERSIONS,
    PLACEHOLDER,
    QUICK_REPLY_VALUES,
    SHIPPED,
    TemplateDefinition,
    TemplateRole,
    pick_language,
)
from services.templates.sync import (
    UNUSABLE,
    TemplateSubmissionFailed,
    apply_quality_update,
    apply_status_update,
    create_templates,
    list_templates,
    merchant_of_account,
    sync_templates,
)

__all__ = [  # Meta's copy lives in services.templates.sync; one import for callers
    "UNUSABLE", "ResolvedTemplate", "TemplateMessage", "TemplateRole", "TemplateSubmissionFailed",
    "apply_quality_update", "apply_status_update", "build", "create_templates", "enqueue_built",
    "enqueue_template", "list_templates", "merchant_of_account", "resolve", "sync_templates",
]  # fmt: skip

log = get_logger(__name__)

_WHITESPACE = re.compile(r"\s+")
_EMPTY_VALUE = "-"  # WhatsApp refuses empty parameters
_ELLIPSIS = "…"


@dataclass(frozen=True)
class ResolvedTemplate:
    name: str
    language: str
    body: str
    parameters: tuple[str, ...]  # value names filling {{1}}, {{2}}... in order
    quick_replies: tuple[str, ...] = ()  # value names carried by each quick-reply payload


@dataclass(frozen=True)
class TemplateMessage:
    template: OutboundTemplate  # what goes out (stored in the message's raw["template"])
    text: str  # the body as the recipient reads it: for our records and the console


# --- choosing -------------------------------------------------------------------------


def resolve(
    session: Session, *, merchant_id: int, role: TemplateRole | str, language: str | None
) -> ResolvedTemplate:
    """The merchant's template for `role` in `language`, else in the merchant's default
    language, else the shipped one in either, else the shipped English one."""
    role = TemplateRole(role)
    merchant = merchants.get_merchant(session, merchant_id)
    own = [_resolved(row) for row in _usable_rows(session, merchant_id, role)]
    shipped = [_resolved(t) for (r, _), t in SHIPPED.items() if r == role]
    default = merchant.default_language
    steps = [
        ("merchant", own, language),
        ("merchant default language", own, default),
        ("shipped", shipped, language),
        ("shipped in the default language", shipped, default),
        ("shipped English", shipped, "en"),
    ]
    for index, (source, candidates, wanted) in enumerate(steps):
        found = _pick(candidates, wanted)
        if found is not None:
            if index:
                log.info(
                    "templates.fallback", merchant_id=merchant_id, role=role.value,
                    requested=language, used=f"{found.name}:{found.language}", source=source,
                )  # fmt: skip
            return found
    raise LookupError(f"no shipped English template for {role.value}")  # shipped data is broken


def prefer_button_version(
    session: Session, *, merchant_id: int, role: TemplateRole, found: ResolvedTemplate
) -> ResolvedTemplate:
    """The version of `found` with a quick-reply button when Meta approved it in the same
    language; `found` otherwise (sending a pending one would fail with 132001)."""
    button_role = BUTTON_VERSIONS.get(role)
    if button_role is None:
        return found
    row = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.merchant_id == merchant_id,
            MessageTemplate.role == button_role.value,
            MessageTemplate.language == found.language,
            MessageTemplate.status == "APPROVED",
        )
    )
    return _resolved(row) if row is not None else found


def _pick(candidates: Sequence[ResolvedTemplate], wanted: str | None) -> ResolvedTemplate | None:
    code = pick_language([c.language for c in candidates], wanted)
    return next((c for c in candidates if c.language == code), None)


def _usable_rows(session: Session, merchant_id: int, role: TemplateRole) -> list[MessageTemplate]:
    stmt = (
        select(MessageTemplate)
        .where(MessageTemplate.merchant_id == merchant_id, MessageTemplate.role == role.value)
        .where(MessageTemplate.status.not_in(UNUSABLE))
        .order_by(MessageTemplate.language)
    )
    return list(session.scalars(stmt))


def _resolved(template: MessageTemplate | TemplateDefinition) -> ResolvedTemplate:
    role = TemplateRole(template.role) if template.role else None
    return ResolvedTemplate(
        name=template.name,
        language=template.language,
        body=template.body,
        parameters=tuple(template.parameters),
        quick_replies=QUICK_REPLY_VALUES.get(role, ()) if role else (),
    )


# --- filling --------------------------------------------------------------------------


def build(template: ResolvedTemplate, values: Mapping[str, Any]) -> TemplateMessage:
    """The template to send and the rendered text; parameters cleaned as WhatsApp requires
    (no newline, tab or run of spaces, never empty) and shortened so the body fits 1024."""
    missing = [name for name in template.parameters if values.get(name) is None]
    if missing:
        raise ValueError(f"template {template.name!r} needs a value for: {', '.join(missing)}")
    numbers = [int(n) for n in PLACEHOLDER.findall(template.body)]
    if numbers and max(numbers) > len(template.parameters):
        raise ValueError(f"template {template.name!r} has more placeholders than parameters")
    budget = BODY_LIMIT - len(PLACEHOLDER.sub("", template.body))
    texts = _fit([clean_parameter(str(values[name])) for name in template.parameters], budget)
    text = PLACEHOLDER.sub(lambda match: texts[int(match.group(1)) - 1], template.body)
    payloads = tuple(str(values[name])[:256] for name in template.quick_replies)
    outbound = OutboundTemplate(
        template.name, template.language, tuple(texts), quick_replies=payloads
    )
    return TemplateMessage(outbound, text)


def stored_template(raw: Mapping[str, Any]) -> OutboundTemplate:
    """The template a message row holds in raw["template"] (written by enqueue_template)."""
    stored = raw["template"]
    return OutboundTemplate(
        stored["name"], stored["language"], tuple(stored["parameters"]),
        header=tuple(stored.get("header") or ()),
        quick_replies=tuple(stored.get("quick_replies") or ()),
    )  # fmt: skip


def clean_parameter(value: str) -> str:
    """One line, single spaces, never empty: WhatsApp refuses anything else (132018)."""
    return _WHITESPACE.sub(" ", value).strip() or _EMPTY_VALUE


def _fit(texts: list[str], budget: int) -> list[str]:
    """Shorten the longest parameters first until they all fit in `budget` characters."""
    if sum(len(text) for text in texts) <= budget:
        return texts
    cap = _water_level([len(text) for text in texts], max(budget, len(texts)))
    return [text if len(text) <= cap else _truncate(text, cap) for text in texts]


def _water_level(lengths: list[int], budget: int) -> int:
    """The largest cap with sum(min(length, cap)) <= budget."""
    remaining, left = budget, len(lengths)
    for length in sorted(lengths):
        share = remaining // left
        if length > share:
            return max(1, share)
        remaining -= length
        left -= 1
    return max(lengths)


def _truncate(text: str, cap: int) -> str:
    return (text[: cap - 1].rstrip() + _ELLIPSIS) if cap > 1 else _ELLIPSIS


# --- sending --------------------------------------------------------------------------


def enqueue_template(
    session: Session,
    *,
    conversation_id: int,
    role: TemplateRole | str,
    language: str | None,
    values: Mapping[str, Any],
    merchant_id: int,
    author: Author = Author.SYSTEM,
) -> int:
    """Write a template message to the outbox; send it after commit with
    services.delivery.outbox.send_pending(id, only_in_ai_mode=False)."""
    role = TemplateRole(role)
    found = resolve(session, merchant_id=merchant_id, role=role, language=language)
    chosen = prefer_button_version(session, merchant_id=merchant_id, role=role, found=found)
    return enqueue_built(
        session, conversation_id=conversation_id, message=build(chosen, values), author=author,
        raw={"role": role.value},
    ).id  # fmt: skip


def enqueue_built(
    session: Session,
    *,
    conversation_id: int,
    message: TemplateMessage,
    author: Author,
    raw: Mapping[str, Any],
    operator_id: int | None = None,
) -> Message:
    """Write a filled template to the outbox (its wire form in raw["template"])."""
    row = Message(
        conversation_id=conversation_id,
        direction=Direction.OUTBOUND,
        author=author,
        type="template",
        text=message.text,
        raw={"template": asdict(message.template), **raw},
        status=DeliveryStatus.PENDING,
        operator_id=operator_id,
        send_attempts=0,
    )
    session.add(row)
    session.flush()
    return row
