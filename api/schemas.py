"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AliasPath, BaseModel, ConfigDict, Field, model_validator

from services.hours.weekly import OpeningHours, valid_timezone


class PhoneNumberCreate(BaseModel):
    phone_number_id: str = Field(min_length=1, max_length=64)
    access_token: str = Field(min_length=1)
    display_phone_number: str | None = Field(default=None, max_length=32)
    catalog_id: str | None = Field(
        default=None, max_length=64, pattern=r"^\d+$",
        description="Meta commerce catalog linked to the number: products go as product cards",
    )  # fmt: skip


class PhoneNumberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    phone_number_id: str
    display_phone_number: str | None
    catalog_id: str | None = None


Timezone = Annotated[
    str,
    Field(max_length=64, description="IANA time zone, e.g. Europe/Madrid"),
    AfterValidator(valid_timezone),
]


class MerchantCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    tone: str = Field(default="friendly and concise", max_length=200)
    default_language: str = Field(default="en", min_length=2, max_length=16)
    timezone: Timezone = "UTC"
    opening_hours: OpeningHours | None = None
    whatsapp_business_account_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The WhatsApp Business Account owning the numbers and message templates",
    )
    phone_numbers: list[PhoneNumberCreate] = Field(default_factory=list)


class MerchantUpdate(BaseModel):
    """Only the fields given change; `opening_hours: null` removes the hours."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    tone: str | None = Field(default=None, min_length=1, max_length=200)
    default_language: str | None = Field(default=None, min_length=2, max_length=16)
    timezone: Timezone | None = None
    opening_hours: OpeningHours | None = None
    greeting: str | None = Field(default=None, max_length=500)
    ai_rules: str | None = Field(
        default=None, max_length=2000, description="Things the AI must never do, one per line"
    )


class PhoneNumberUpdate(BaseModel):
    """Replace the number's access token (stored encrypted, never shown again)."""

    model_config = ConfigDict(extra="forbid")
    access_token: str | None = Field(default=None, min_length=1, max_length=1000)
    display_phone_number: str | None = Field(default=None, min_length=1, max_length=32)


class MerchantUserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    wa_id: str | None = Field(default=None, min_length=1, max_length=32)
    user_id: str | None = Field(default=None, min_length=1, max_length=128)
    type: str | None = Field(default=None, min_length=1, max_length=32)


class MerchantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str
    tone: str
    default_language: str
    greeting: str = ""
    ai_rules: str = ""
    timezone: str
    opening_hours: OpeningHours | None = None
    whatsapp_business_account_id: str | None = None
    created_at: datetime
    phone_numbers: list[PhoneNumberRead] = Field(default_factory=list)


class MerchantUserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    wa_id: str | None = Field(default=None, min_length=1, max_length=32)
    user_id: str | None = Field(default=None, min_length=1, max_length=128)
    type: str = Field(default="admin", min_length=1, max_length=32)

    @model_validator(mode="after")
    def _reachable(self) -> MerchantUserCreate:
        if not (self.wa_id or self.user_id):
            raise ValueError("give wa_id and/or user_id so the user is reachable on WhatsApp")
        return self


class MerchantUserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    merchant_id: int
    name: str
    wa_id: str | None
    user_id: str | None
    type: str


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    direction: str
    author: str
    wamid: str | None
    type: str
    text: str | None
    media: dict[str, Any] | None
    context_wamid: str | None
    wa_timestamp: datetime | None
    status: str
    error_code: int | None
    error_detail: str | None
    operator_id: int | None
    created_at: datetime
    offer: dict[str, Any] | None = Field(
        default=None,
        validation_alias=AliasPath("raw", "offer"),
        description="The options an outbound message offered: `kind` (buttons, list, cta_url, "
        "location_request), `options` (id, title), and `sent_as` (the kind, or `numbered` "
        "when it went out as numbered text).",
    )


class ConversationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    phone_number_id: int
    customer_id: int
    mode: str
    needs_human: bool
    needs_human_reason: str | None
    needs_human_since: datetime | None
    last_inbound_at: datetime | None
    assigned_operator_id: int | None
    assigned_to: str | None  # who holds the takeover (a name)
    taken_over_at: datetime | None
    # the desk
    status: str  # open | pending | resolved
    priority: str  # low | normal | high | urgent
    labels: list[str]
    assignee_id: int | None  # the operator responsible (?assigned_to=<id>|me|none)
    resolved_at: datetime | None
    resolved_by: str | None
    created_at: datetime
    updated_at: datetime


class ConversationRef(BaseModel):
    """Name the conversation by id, or by the customer's wa_id / business-scoped user id."""

    conversation_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    customer: str | None = Field(default=None, min_length=1, max_length=128)
    phone_number_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _named(self) -> ConversationRef:
        if self.conversation_id is None and not self.customer:
            raise ValueError("give conversation_id, or customer (and phone_number_id if needed)")
        return self


class TemplateChoiceCreate(BaseModel):
    name: str = Field(min_length=1, max_length=512, description="An APPROVED template's name.")
    language: str = Field(min_length=2, max_length=16, description="e.g. en, es, pt_BR")
    parameters: list[Annotated[str, Field(max_length=1024)]] = Field(
        default_factory=list, max_length=50, description="The body's {{1}}, {{2}}... in order."
    )
    header_parameters: list[Annotated[str, Field(max_length=60)]] = Field(
        default_factory=list, max_length=1, description="A text header's {{1}}, if it has one."
    )


class OperatorMessageCreate(ConversationRef):
    text: str | None = Field(
        default=None, min_length=1, max_length=4096, description="With media_key: its caption."
    )
    media_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Send this file of the merchant's media library (GET /api/v1/media).",
    )
    template: TemplateChoiceCreate | None = Field(
        default=None,
        description="Send this approved message template instead of text (works outside "
        "the 24-hour window).",
    )

    options: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None,
        min_length=1,
        max_length=10,
        description="Choices sent with `text`: up to 3 of at most 20 characters as reply "
        "buttons, else a list (up to 10, titles of at most 24 characters); beyond those "
        "limits, a numbered text the customer answers with a number.",
    )

    @model_validator(mode="after")
    def _content(self) -> OperatorMessageCreate:
        if self.template is not None and (self.text or self.media_key or self.options):
            raise ValueError("give a template, or text/media_key, not both")
        if not self.text and not self.media_key and self.template is None:
            raise ValueError(
                "give text, media_key, or both (the text is then the caption), or a template"
            )
        if self.options and self.media_key:
            raise ValueError("options go with a text message, not with media_key")
        if self.media_key and self.text and len(self.text) > 1024:
            raise ValueError("a caption may be at most 1024 characters")
        return self


class HandbackCreate(ConversationRef):
    note: str | None = Field(default=None, max_length=2000, description="Context for the AI.")


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    actor: str
    operator_id: int | None
    action: str
    detail: dict[str, Any]
    created_at: datetime


class OperatorCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    is_admin: bool = Field(default=False, description="An admin of their merchant.")
    merchant_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="Whose data they see. Omitted: the caller's merchant; for ADMIN_API_TOKEN "
        "or a platform admin, a platform admin (with is_admin) or the default merchant.",
    )


class OperatorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    is_admin: bool
    merchant_id: int | None
    revoked_at: datetime | None
    created_at: datetime


class OperatorCreated(OperatorRead):
    token: str = Field(description="Shown once: store it now, only its hash is kept.")


class OperatorMessageResult(BaseModel):
    conversation: ConversationRead
    message: MessageRead


class MediaAssetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    merchant_id: int
    key: str
    kind: str
    caption: str
    filename: str
    mime_type: str
    size: int
    sha256: str
    created_at: datetime
