"""Meta's copy of a merchant's message templates: submitted through the Graph API's
message_templates endpoint, statuses read back or received from
`message_template_status_update` webhooks. Used through services.templates.templates."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.errors import WhatsAppError
from channels.webhook import TemplateStatusUpdate
from channels.whatsapp import RemoteTemplate, TemplateExists, WhatsAppClient
from observability.logs import get_logger
from persistence.models import ChannelType, Merchant, MessageTemplate
from services.errors import Conflict, DomainError
from services.merchants import merchant as merchants
from services.merchants.clients import client_for
from services.templates.defaults import (
    SHIPPED,
    SHIPPED_LANGUAGES,
    TemplateDefinition,
    TemplateRole,
    body_problems,
    components_of,
    example_values,
    normalize_language,
    pick_language,
)
from services.templates.imported import import_remote, refresh_components

log = get_logger(__name__)

# Statuses under which WhatsApp refuses to send a template.
UNUSABLE = frozenset({"REJECTED", "DISABLED", "PAUSED", "PENDING_DELETION", "DELETED", "ARCHIVED"})
# Webhook events that are not a status of their own (editing locks), or name another one.
_NOT_A_STATUS = frozenset({"LOCKED", "UNLOCKED"})
_EVENT_STATUS = {"REINSTATED": "APPROVED"}


class TemplateSubmissionFailed(DomainError):
    """The Graph API refused to create or list a template."""

    status_code = 502


def list_templates(session: Session, merchant_id: int) -> list[MessageTemplate]:
    merchants.get_merchant(session, merchant_id)
    stmt = (
        select(MessageTemplate)
        .where(MessageTemplate.merchant_id == merchant_id)
        .order_by(MessageTemplate.role, MessageTemplate.language)
    )
    return list(session.scalars(stmt))


def create_templates(
    session: Session,
    *,
    merchant_id: int,
    languages: Iterable[str],
    client: WhatsAppClient | None = None,
) -> list[MessageTemplate]:
    """Submit every role's template in each language for review, and record its status.

    The merchant's own row for a role and language is submitted as it is; otherwise the
    shipped default. A template that already exists is read back instead, so running this
    again is harmless and refreshes the statuses."""
    merchant = merchants.get_merchant(session, merchant_id)
    waba_id = _waba_id(merchant)
    codes = [_shipped_language(language) for language in languages]
    api = client or _client(session, merchant_id)
    created = []
    for code in dict.fromkeys(codes):
        for role in TemplateRole:
            definition = _definition(session, merchant_id, role, code)
            remote = _submit(api, waba_id, definition)
            created.append(_record(session, merchant_id, definition, remote))
            log.info(
                "templates.created",
                merchant_id=merchant_id,
                name=remote.name,
                language=remote.language,
                status=remote.status,
            )
    return created


def sync_templates(
    session: Session, *, merchant_id: int, client: WhatsAppClient | None = None
) -> list[MessageTemplate]:
    """Refresh the status and components of the merchant's templates from the business
    account, and import the ones we do not hold yet (the merchant's own templates)."""
    waba_id = _waba_id(merchants.get_merchant(session, merchant_id))
    api = client or _client(session, merchant_id)
    try:
        remote = api.list_templates(waba_id)
    except WhatsAppError as exc:
        raise TemplateSubmissionFailed(f"could not list the templates of {waba_id}: {exc}") from exc
    rows = list_templates(session, merchant_id)
    for row in rows:
        found = _find(remote, row.name, row.language)
        if found is None:
            if row.role is not None:
                log.warning("templates.sync.missing", name=row.name, language=row.language)
            continue
        _set_status(row, found.status, found.rejected_reason, found.id)
        refresh_components(row, found)
    rows += import_remote(session, merchant_id=merchant_id, remote=remote, rows=rows)
    session.flush()
    return rows


def _waba_id(merchant: Merchant) -> str:
    if not merchant.whatsapp_business_account_id:
        raise Conflict(
            f"merchant {merchant.id} has no WhatsApp Business Account id: set it first "
            "(scripts/manage.py set-waba, or whatsapp_business_account_id in the API)"
        )
    return merchant.whatsapp_business_account_id


def _client(session: Session, merchant_id: int) -> WhatsAppClient:
    phones = [
        phone
        for phone in merchants.phone_numbers_of(session, merchant_id)
        if phone.type == ChannelType.WHATSAPP_CLOUD  # templates live in a WhatsApp account
    ]
    if not phones:
        raise Conflict(
            f"merchant {merchant_id} has no WhatsApp number: its access token is needed "
            "to manage templates"
        )
    return client_for(phones[0])


def _shipped_language(language: str) -> str:
    found = pick_language(SHIPPED_LANGUAGES, language)
    if found is None:
        raise DomainError(
            f"no shipped templates in {language!r}; shipped: {', '.join(SHIPPED_LANGUAGES)}"
        )
    return found


def _definition(
    session: Session, merchant_id: int, role: TemplateRole, language: str
) -> TemplateDefinition:
    row = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.merchant_id == merchant_id,
            MessageTemplate.role == role.value,
            MessageTemplate.language == language,
        )
    )
    if row is None:
        return SHIPPED[(role, language)]
    definition = TemplateDefinition(
        role=role, language=row.language, name=row.name, body=row.body,
        parameters=tuple(row.parameters), category=row.category,
        quick_replies=shipped.quick_replies if (shipped := SHIPPED.get((role, language))) else (),
    )  # fmt: skip
    problems = body_problems(definition.body, len(definition.parameters))
    if problems:
        raise Conflict(f"template {row.name} ({row.language}) would be refused: {problems}")
    return definition


def _submit(api: WhatsAppClient, waba_id: str, definition: TemplateDefinition) -> RemoteTemplate:
    label = f"{definition.name} ({definition.language})"
    try:
        try:
            return api.submit_template(
                waba_id, name=definition.name, language=definition.language,
                category=definition.category, body=definition.body,
                example=example_values(definition.parameters, definition.language)
                if definition.parameters else None, quick_replies=definition.quick_replies,
            )  # fmt: skip
        except TemplateExists:
            existing = api.list_templates(waba_id, name=definition.name)
    except WhatsAppError as exc:
        raise TemplateSubmissionFailed(f"could not create {label}: {exc}") from exc
    found = _find(existing, definition.name, definition.language)
    if found is None:
        raise TemplateSubmissionFailed(f"{label} exists but is not in the template list")
    return found


def _find(remote: list[RemoteTemplate], name: str, language: str) -> RemoteTemplate | None:
    code = normalize_language(language)
    return next(
        (t for t in remote if t.name == name and normalize_language(t.language) == code), None
    )


def _record(
    session: Session, merchant_id: int, definition: TemplateDefinition, remote: RemoteTemplate
) -> MessageTemplate:
    row = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.merchant_id == merchant_id,
            MessageTemplate.role == definition.role.value,
            MessageTemplate.language == definition.language,
        )
    )
    if row is None:
        row = MessageTemplate(
            merchant_id=merchant_id, role=definition.role.value, language=definition.language
        )
        session.add(row)
    row.name, row.body, row.category = definition.name, definition.body, definition.category
    row.parameters = list(definition.parameters)
    row.components = components_of(definition)
    _set_status(row, remote.status, remote.rejected_reason, remote.id)
    session.flush()
    return row


def _set_status(row: MessageTemplate, status: str, reason: object, template_id: str | None) -> None:
    row.status = status.upper()[:24]
    row.status_reason = _reason(reason)
    if template_id:
        row.meta_template_id = template_id


def _reason(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if text.upper() in ("", "NONE") else text


# --- status webhooks ------------------------------------------------------------------


def apply_status_update(session: Session, update: TemplateStatusUpdate) -> bool:
    """Meta's review of a template: update the matching rows (by Meta's template id, else by
    business account, name and language); False if none matched."""
    rows = _rows_for_update(session, update) if update.event else []
    for row in rows:
        if update.event in _NOT_A_STATUS:
            continue
        _set_status(
            row, _EVENT_STATUS.get(update.event, update.event), update.reason, update.template_id
        )
    log.info(
        "templates.status_update",
        status_event=update.event,
        name=update.name,
        language=update.language,
        matched=len(rows),
    )
    return bool(rows)


def apply_quality_update(
    session: Session, *, waba_id: str | None, template_id: str | None, name: str | None,
    language: str | None, quality: str,
) -> int:  # fmt: skip
    """Meta's new quality score (GREEN, YELLOW, RED, UNKNOWN) for a template: the matching
    rows keep it; returns how many matched."""
    update = TemplateStatusUpdate(
        waba_id=waba_id, template_id=template_id, name=name, language=language, event="",
        reason=None,
    )  # fmt: skip
    rows = _rows_for_update(session, update)
    for row in rows:
        row.quality = quality
    log.info("templates.quality_update", quality=quality, name=name, matched=len(rows))
    return len(rows)


def merchant_of_account(session: Session, waba_id: str | None) -> int | None:
    """The merchant whose business account this is (a status update for a template we do
    not hold yet: the merchant made it in WhatsApp Manager, and a sync imports it)."""
    if not waba_id:
        return None
    return session.scalar(
        select(Merchant.id)
        .where(Merchant.whatsapp_business_account_id == waba_id)
        .order_by(Merchant.id)  # two merchants of one account: always the same, the first
        .limit(1)
    )


def _rows_for_update(session: Session, update: TemplateStatusUpdate) -> list[MessageTemplate]:
    if update.template_id:
        by_id = select(MessageTemplate).where(
            MessageTemplate.meta_template_id == update.template_id
        )
        rows = list(session.scalars(by_id))
        if rows:
            return rows
    if not (update.waba_id and update.name and update.language):
        return []
    stmt = (
        select(MessageTemplate)
        .join(Merchant, Merchant.id == MessageTemplate.merchant_id)
        .where(
            Merchant.whatsapp_business_account_id == update.waba_id,
            MessageTemplate.name == update.name,
            MessageTemplate.language == update.language,
        )
    )
    return list(session.scalars(stmt))
