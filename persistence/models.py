"""SQLAlchemy models: the record of merchants, customers, conversations and every message."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from persistence.crypto import EncryptedString

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSONB}


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class ConversationMode(enum.StrEnum):
    AI = "ai"
    OPERATOR = "operator"


class Direction(enum.StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"
    NOTE = "note"  # internal context for the AI and operators; never sent


class Author(enum.StrEnum):
    CUSTOMER = "customer"
    AI = "ai"
    OPERATOR = "operator"
    SYSTEM = "system"
    BUSINESS_APP = "business_app"  # typed in the WhatsApp Business app (coexistence echoes)
    # no model could answer (degraded mode): a knowledge-base answer sent as it is written
    AUTO_ANSWER = "auto_answer"
    # no model could answer and the knowledge base had nothing sure: "a colleague will reply"
    HOLDING = "holding"


# Outbound messages a turn writes on its own: dropped, never sent, once a person takes over.
TURN_AUTHORS = (Author.AI, Author.AUTO_ANSWER, Author.HOLDING)


class TurnResult(enum.StrEnum):
    """How a turn ended (turns.outcome)."""

    REPLIED = "replied"
    SILENT = "silent"  # operator mode: recorded, not answered
    NEEDS_HUMAN = "needs_human"
    AUTO_ANSWERED = "auto_answered"  # no model: a confident knowledge-base answer went out
    NO_REPLY = "no_reply"
    UNSENT = "unsent"  # dropped by a takeover, or refused by the provider
    ABANDONED = "abandoned"  # redone too often: handed to a person
    STALE = "stale"  # a message older than WEBHOOK_MAX_MESSAGE_AGE_SECONDS: stored, unanswered
    IMPORTED = "imported"  # chat history shared by the WhatsApp Business app: never answered
    CSAT = "csat"  # an answer to a satisfaction survey (score or comment): stored, not a turn
    ORDER_UPDATES = "order_updates"  # "stop"/"start" to order updates: answered, not a turn


class MediaStatus(enum.StrEnum):
    """Where an inbound message's file is (messages.media_status)."""

    PENDING = "pending"
    STORED = "stored"
    FAILED = "failed"


# The message types whose file is a picture (a model can see it; it is described in words)
IMAGE_TYPES = frozenset({"image", "sticker"})


class DeliveryMethod(enum.StrEnum):
    """How a staff answer reached the customer (notifications.delivery_method)."""

    CONVERSATION = "conversation"  # relayed by the customer's graph inside the window
    TEMPLATE = "template"  # the answer template, outside the window
    NOTE = "note"  # left for the operator who holds the conversation
    HUMAN_AGENT = "human_agent"  # Instagram, outside the window: a person's tagged answer


class DeliveryStatus(enum.StrEnum):
    """Outbound message life cycle. The order of RANK is the only way a status may move."""

    PENDING = "pending"  # in the outbox, not yet handed to the Graph API
    SENDING = "sending"  # handed over; outcome not yet known
    UNKNOWN = (
        "unknown"  # the call failed in a way that may have sent it: reconcile, never resend blindly
    )
    ACCEPTED = "accepted"  # the Graph API returned a wamid
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    DROPPED = "dropped"  # never sent on purpose (e.g. an operator took over meanwhile)
    PARKED = "parked"  # held while the customer's window is closed; pending when they write
    RECEIVED = "received"  # inbound messages


class ConversationStatus(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"  # answered; waiting for the customer
    RESOLVED = "resolved"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    tone: Mapped[str] = mapped_column(String(200), default="friendly and concise")
    default_language: Mapped[str] = mapped_column(String(16), default="en")
    # how the AI opens a new conversation, and "things the AI must never do": both prompt text
    greeting: Mapped[str] = mapped_column(Text, default="", server_default="")
    ai_rules: Mapped[str] = mapped_column(Text, default="", server_default="")
    # IANA name; the model is told the local time and whether the business is open
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # services.merchants.hours.OpeningHours as JSON; None: not given
    opening_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # services.hours.business.Holiday as JSON: whole local dates the business is closed
    holidays: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default="[]"
    )
    # sent once per closed period to a customer who writes while no AI answers
    away_message: Mapped[str | None] = mapped_column(Text)
    # notification type -> services.hours.business.NotificationSla as JSON
    notification_slas: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default="{}"
    )
    # the WhatsApp Business Account that owns the merchant's numbers and message templates
    whatsapp_business_account_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now()

    phone_numbers: Mapped[list[PhoneNumber]] = relationship(back_populates="merchant", lazy="raise")


class ChannelType(enum.StrEnum):
    """Which provider speaks for a channel account."""

    WHATSAPP_CLOUD = "whatsapp_cloud"
    TWILIO_WHATSAPP = "twilio_whatsapp"
    INSTAGRAM = "instagram"


class PhoneNumber(Base):
    """A merchant's channel account (the table keeps its first name: every conversation hangs
    off it). `phone_number_id` is the provider's id of the account: Meta's phone number id
    for WhatsApp Cloud, the sender (`+14155238886`) for Twilio, the Instagram account id."""

    __tablename__ = "phone_numbers"
    __table_args__ = (UniqueConstraint("type", "phone_number_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(
        String(32), default=ChannelType.WHATSAPP_CLOUD, server_default="whatsapp_cloud"
    )
    phone_number_id: Mapped[str] = mapped_column(String(64))
    display_phone_number: Mapped[str | None] = mapped_column(String(32))
    # The provider secret (Cloud/Instagram access token, Twilio auth token): Fernet
    # ciphertext in the database (SECRETS_KEY); plaintext here
    access_token: Mapped[str] = mapped_column(EncryptedString)
    # Twilio: the account (AC...) the sender belongs to
    account_sid: Mapped[str | None] = mapped_column(String(64))
    # Twilio: our template role -> Content API ContentSid (HX...)
    content_sids: Mapped[dict[str, Any] | None] = mapped_column()
    # the Meta commerce catalog linked to the number: products go out as product cards
    catalog_id: Mapped[str | None] = mapped_column(String(64))
    # Meta's latest phone_number_quality_update: FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE...
    quality_event: Mapped[str | None] = mapped_column(String(32))
    # Meta's quality rating of the number: GREEN, YELLOW, RED or UNKNOWN
    quality_rating: Mapped[str | None] = mapped_column(String(16))
    messaging_limit: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = _now()

    merchant: Mapped[Merchant] = relationship(back_populates="phone_numbers", lazy="raise")

    @property
    def auth_token(self) -> str:
        """Twilio's name for the secret kept in `access_token`."""
        return self.access_token


# A channel account of any type; `PhoneNumber` is its historical name.
ChannelAccount = PhoneNumber


class MerchantUser(Base):
    """A merchant's own staff on WhatsApp (admins and typed users such as sales or returns)."""

    __tablename__ = "merchant_users"
    __table_args__ = (
        UniqueConstraint("merchant_id", "wa_id"),
        UniqueConstraint("merchant_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    wa_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(32), default="admin")
    created_at: Mapped[datetime] = _now()


class Customer(Base):
    """A person writing to a merchant; known by phone (`wa_id`), business-scoped id, or both."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("merchant_id", "wa_id"),
        UniqueConstraint("merchant_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    wa_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(128))
    profile_name: Mapped[str | None] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(64))  # WhatsApp username, when given
    language: Mapped[str | None] = mapped_column(String(16))
    # said "stop" to order updates (services/commerce/opt_out.py); "start" clears it
    order_updates_opt_out: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    created_at: Mapped[datetime] = _now()


class Conversation(Base):
    """One customer talking to one business number. `mode` is the single source of truth."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("phone_number_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    mode: Mapped[ConversationMode] = mapped_column(
        _enum(ConversationMode), default=ConversationMode.AI
    )
    needs_human: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_human_reason: Mapped[str | None] = mapped_column(Text)
    needs_human_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    followed_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the merchant's away message went out (once per closed period)
    away_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # WhatsApp timestamp of the customer's last message: the 24-hour service window
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="SET NULL")
    )
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    taken_over_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    operator_active_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # set at handback when the customer waits for an answer: the next turn runs without new input
    reply_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # the desk (services.desk): life cycle, priority, labels, and the operator responsible,
    # who need not hold a takeover (assigned_operator_id/assigned_to are the takeover's holder)
    status: Mapped[ConversationStatus] = mapped_column(
        _enum(ConversationStatus), default=ConversationStatus.OPEN, server_default="open"
    )
    priority: Mapped[Priority] = mapped_column(
        _enum(Priority), default=Priority.NORMAL, server_default="normal"
    )
    labels: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="SET NULL"), index=True
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Turn(Base):
    """One run of the graph over a burst of inbound messages; redone, never duplicated."""

    __tablename__ = "turns"
    __table_args__ = (
        Index(
            "uq_turns_open_per_conversation",
            "conversation_id",
            unique=True,
            postgresql_where=text("finished_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = _now()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index(
            "ix_messages_pending_inbound",
            "conversation_id",
            postgresql_where=text("direction = 'in' AND turn_id IS NULL"),
        ),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        # a turn's reads (0028): its notes, the message before its burst, released ones
        Index(
            "ix_messages_notes",
            "conversation_id",
            "id",
            postgresql_where=text("author IN ('operator', 'system', 'business_app')"),
        ),
        Index(
            "ix_messages_conversation_written",
            "conversation_id",
            text("coalesce(wa_timestamp, created_at)"),
        ),
        Index(
            "ix_messages_parked_in_flight",
            "conversation_id",
            postgresql_where=text("status IN ('pending', 'sending') AND raw ? 'parked_at'"),
        ),
        Index("ix_messages_search_vector", "search_vector", postgresql_using="gin"),
        Index(
            "ix_messages_unresolved_outbound",
            "status",
            postgresql_where=text("status IN ('pending', 'sending', 'unknown')"),
        ),
        UniqueConstraint("turn_id", "direction", "seq", name="uq_messages_turn_reply_part"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(_enum(Direction))
    author: Mapped[Author] = mapped_column(_enum(Author))
    wamid: Mapped[str | None] = mapped_column(String(256), unique=True)
    type: Mapped[str] = mapped_column(String(32), default="text")
    text: Mapped[str | None] = mapped_column(Text)
    # full text over `text` (`simple` configuration, accents removed): the inbox search
    # matches and ranks on it without computing a vector per message (migration 0026)
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed("to_tsvector('simple', switchboard_unaccent(coalesce(text, '')))", persisted=True),
        deferred=True,
    )
    media: Mapped[dict[str, Any] | None] = mapped_column()
    # inbound media: fetched from WhatsApp into our storage (pending -> stored | failed)
    media_status: Mapped[str | None] = mapped_column(String(16))
    media_key: Mapped[str | None] = mapped_column(String(512))
    media_error: Mapped[str | None] = mapped_column(Text)
    # a voice note's transcript, or an image's description (services.media.description):
    # for operators, for later turns and for models that cannot listen or see
    transcript: Mapped[str | None] = mapped_column(Text)
    context_wamid: Mapped[str | None] = mapped_column(String(256))
    raw: Mapped[dict[str, Any] | None] = mapped_column()
    wa_timestamp: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus))
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_detail: Mapped[str | None] = mapped_column(Text)
    # Inbound: the turn that consumed it. Outbound: the turn that wrote it; `seq` is the part.
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("turns.id", ondelete="SET NULL"))
    seq: Mapped[int | None] = mapped_column(Integer)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    send_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = _now()


class Operator(Base):
    """A person with API credentials; the token is stored only as a hash."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # The merchant whose data they see; None only for platform admins (all merchants).
    merchant_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # console presence (services.desk.presence), and the round-robin's turn order
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class AccountEvent(Base):
    """Meta's account and quality webhooks, kept as they came (merchant known from the WABA)."""

    __tablename__ = "account_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(64))
    event: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = _now()


class RejectedWebhook(Base):
    """Webhook content we acknowledged but did not process (unknown number, malformed message)."""

    __tablename__ = "rejected_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(64), index=True)
    phone_number_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = _now()


class AuditEvent(Base):
    """Who did what to a conversation, and when."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = _now()


class OutgoingEvent(Base):
    """A conversation event for the operators' webhook: a row first, then a signed POST."""

    __tablename__ = "outgoing_events"
    __table_args__ = (
        Index(
            "ix_outgoing_events_undelivered", "id", postgresql_where=text("delivered_at IS NULL")
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    payload: Mapped[dict[str, Any]] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()


class MediaAsset(Base):
    """A file in a merchant's media library, sent by the AI (respond_with_media) or operators."""

    __tablename__ = "media_assets"
    __table_args__ = (UniqueConstraint("merchant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # image | video | document | audio
    caption: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = _now()


class MediaUpload(Base):
    """A library file uploaded to WhatsApp for one business number; media ids expire."""

    __tablename__ = "media_uploads"
    __table_args__ = (UniqueConstraint("asset_id", "phone_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("media_assets.id", ondelete="CASCADE"))
    phone_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id", ondelete="CASCADE"))
    whatsapp_media_id: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


# PostgreSQL's text search configuration for a document's language code ('en', 'pt_BR'...).
# An IMMUTABLE SQL function (created in migration 0002) so a generated column can use it.
TS_CONFIG_FUNCTION = "switchboard_ts_config"


class DocumentStatus(enum.StrEnum):
    DRAFT = "draft"  # kept for review; never searched by the AI
    PUBLISHED = "published"


class Document(Base):
    """Merchant knowledge: FAQs, policies, reviewed facts from staff answers, support routing."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_documents_merchant_id_category", "merchant_id", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(32), default="general")
    title: Mapped[str] = mapped_column(String(500))
    content: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(16), default="en")
    status: Mapped[DocumentStatus] = mapped_column(
        _enum(DocumentStatus), default=DocumentStatus.PUBLISHED, server_default="published"
    )
    # why a draft waits for a person (drafted from a staff answer, withdrawn in a review)
    review_note: Mapped[str | None] = mapped_column(Text)
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            f"setweight(to_tsvector({TS_CONFIG_FUNCTION}(language), title), 'A') || "
            f"setweight(to_tsvector({TS_CONFIG_FUNCTION}(language), content), 'B')",
            persisted=True,
        ),
        deferred=True,
    )
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


# Accents removed before a text becomes a search vector, and from queries too, so "envio",
# "alergenios" and "reservacoes" find "envío", "alergénios" and "reservações". An IMMUTABLE
# wrapper of the unaccent extension (migration 0007), usable by a generated column.
UNACCENT_FUNCTION = "switchboard_unaccent"


class DocumentChunk(Base):
    """A passage of a published document, the unit that search ranks and returns.
    Written by the knowledge service whenever its document changes (title and language
    copied, for the generated vector)."""

    __tablename__ = "document_chunks"
    __table_args__ = (
        UniqueConstraint("document_id", "position"),
        Index("ix_document_chunks_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_document_chunks_merchant_id", "merchant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            f"setweight(to_tsvector({TS_CONFIG_FUNCTION}(language), "
            f"{UNACCENT_FUNCTION}(title)), 'A') || "
            f"setweight(to_tsvector({TS_CONFIG_FUNCTION}(language), "
            f"{UNACCENT_FUNCTION}(content)), 'B')",
            persisted=True,
        ),
        deferred=True,
    )


class KnowledgeTerm(Base):
    """A word of a merchant's searchable documents (lowercase, unaccented): the vocabulary
    a misspelt query word is corrected against (pg_trgm similarity)."""

    __tablename__ = "knowledge_terms"
    __table_args__ = (
        Index(
            "ix_knowledge_terms_term_trgm", "term", postgresql_using="gin",
            postgresql_ops={"term": "gin_trgm_ops"},
        ),
    )  # fmt: skip

    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(64), primary_key=True)


class NotificationStatus(enum.StrEnum):
    REQUESTED = "requested"
    ANSWERED = "answered"
    EXPIRED = "expired"  # its SLA closed it unanswered (services.notifications.sla)


class Notification(Base):
    """A customer's question or support request routed to the merchant's staff.

    The id is shown to people and models with a prefix (NOTIF_123); it stays in int32."""

    __tablename__ = "notifications"
    __table_args__ = (
        # a turn redone after a crash must not open the same notification twice; one turn
        # may open several (two questions in one burst), told apart by their dedupe_key
        UniqueConstraint("turn_id", "type", "dedupe_key"),
        Index("ix_notifications_merchant_id_status", "merchant_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    # the request in a normal form (a question's words), so the same one is asked once
    dedupe_key: Mapped[str] = mapped_column(String(64), default="", server_default="")
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("turns.id", ondelete="SET NULL"))
    type: Mapped[str] = mapped_column(String(48))
    status: Mapped[NotificationStatus] = mapped_column(
        _enum(NotificationStatus), default=NotificationStatus.REQUESTED
    )
    # the requested fields and what the system added (lead_phone, customer_name)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    answer: Mapped[dict[str, Any] | None] = mapped_column()
    answer_schema: Mapped[dict[str, Any]] = mapped_column()
    allow_multiple_answers: Mapped[bool] = mapped_column(Boolean, default=False)
    target_user_type: Mapped[str | None] = mapped_column(String(32))
    # the draft of lasting public facts taken from the answer, if it held any
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # how far its SLA went: services.notifications.sla.Stage (each step happens once)
    sla_stage: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by: Mapped[str | None] = mapped_column(String(200))
    answered_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchant_users.id", ondelete="SET NULL")
    )
    # a staff member tapped "I'll answer" on the request: others see it is being handled
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchant_users.id", ondelete="SET NULL")
    )
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the answer reached the customer: through their conversation, a template, or a note
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivery_method: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class NotificationRecipient(Base):
    """A staff member asked to answer a notification, in their own (admin) conversation."""

    __tablename__ = "notification_recipients"
    __table_args__ = (UniqueConstraint("notification_id", "merchant_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    merchant_user_id: Mapped[int] = mapped_column(
        ForeignKey("merchant_users.id", ondelete="CASCADE")
    )
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    # the request template sent to them: a WhatsApp reply to it names this notification
    request_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    closed_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _now()


class MessageTemplate(Base):
    """A WhatsApp message template of a merchant in one language: one of our roles, or
    (role None) any other template of the merchant's business account, imported by sync."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("merchant_id", "role", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    role: Mapped[str | None] = mapped_column(String(48))
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))  # WhatsApp's code: en, en_US, es, pt_BR
    category: Mapped[str] = mapped_column(String(16), default="UTILITY")
    body: Mapped[str] = mapped_column(Text)
    # body parameter {{n}} -> the name of the value that fills it, in order
    parameters: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # Meta's components (HEADER, BODY, FOOTER, BUTTONS) as the business account holds them
    components: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    parameter_format: Mapped[str] = mapped_column(
        String(16), default="POSITIONAL", server_default="POSITIONAL"
    )
    status: Mapped[str] = mapped_column(String(24), default="NOT_SUBMITTED")
    meta_template_id: Mapped[str | None] = mapped_column(String(64))
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Meta's quality score (message_template_quality_update): GREEN, YELLOW, RED or UNKNOWN
    quality: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class WhatsAppOnboarding(Base):
    """A number connected through Embedded Signup: how far its onboarding went
    (services.onboarding), so a repeated call resumes from the step that failed."""

    __tablename__ = "whatsapp_onboardings"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_number_id: Mapped[str] = mapped_column(String(64), unique=True)
    waba_id: Mapped[str] = mapped_column(String(64))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id", ondelete="SET NULL"))
    step: Mapped[str] = mapped_column(String(32))  # the next step to do, or "done"
    status: Mapped[str] = mapped_column(String(16), default="running")  # failed, done
    error: Mapped[str | None] = mapped_column(Text)
    # Fernet ciphertext in the database (SECRETS_KEY): the business token and the
    # two-step verification PIN we registered the number with
    access_token: Mapped[str | None] = mapped_column(EncryptedString)
    pin: Mapped[str | None] = mapped_column(EncryptedString)
    display_phone_number: Mapped[str | None] = mapped_column(String(32))
    verified_name: Mapped[str | None] = mapped_column(String(200))
    quality_rating: Mapped[str | None] = mapped_column(String(16))
    messaging_limit: Mapped[str | None] = mapped_column(String(32))
    # sha256 of the last code exchanged: the same code again is a repeat, a new one a refresh
    code_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class CannedResponse(Base):
    """A merchant's saved reply, found by its shortcut; `{{variables}}` filled per conversation."""

    __tablename__ = "canned_responses"
    __table_args__ = (UniqueConstraint("merchant_id", "shortcut"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    shortcut: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ConversationNote(Base):
    """An operator's private note on a conversation: never sent. `for_ai` notes also reach
    the model, as a team note (a Direction.NOTE message, `message_id`)."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    for_ai: Mapped[bool] = mapped_column(Boolean, default=False)
    message_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _now()
class ShopifyStore(Base):
    """A merchant's connected Shopify store (one per merchant) and the state of its sync."""

    __tablename__ = "shopify_stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), unique=True
    )
    shop_domain: Mapped[str] = mapped_column(String(255), unique=True)
    # Fernet ciphertext in the database (SECRETS_KEY); plaintext here
    access_token: Mapped[str] = mapped_column(EncryptedString)
    storefront_access_token: Mapped[str | None] = mapped_column(EncryptedString)
    shop_name: Mapped[str] = mapped_column(String(255), default="")
    currency: Mapped[str] = mapped_column(String(8), default="USD")
    primary_locale: Mapped[str] = mapped_column(String(16), default="en")
    storefront_url: Mapped[str | None] = mapped_column(String(500))
    # idle, running, done, failed
    sync_status: Mapped[str] = mapped_column(String(16), default="idle")
    sync_products_done: Mapped[int] = mapped_column(Integer, default=0)
    sync_products_total: Mapped[int | None] = mapped_column(Integer)
    sync_error: Mapped[str | None] = mapped_column(Text)
    sync_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_full_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # topic -> Shopify's webhook subscription id
    webhook_ids: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = _now()


class Product(Base):
    """A product of a merchant's store, as the last sync or webhook saw it. `shopify_id` is
    Shopify's numeric id (legacyResourceId), the id the model, tools and API show."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("merchant_id", "shopify_id"),
        Index("ix_products_search_vector", "search_vector", postgresql_using="gin"),
        Index(
            "ix_products_title_trgm",
            text(f"{UNACCENT_FUNCTION}(lower(title)) gin_trgm_ops"),
            postgresql_using="gin",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    shopify_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(500))
    handle: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(1000))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # active, draft, archived (lower case)
    product_type: Mapped[str] = mapped_column(String(255), default="")
    vendor: Mapped[str] = mapped_column(String(255), default="")
    tags: Mapped[list[str]] = mapped_column(JSONB, default=list)
    collections: Mapped[list[str]] = mapped_column(JSONB, default=list)
    images: Mapped[list[str]] = mapped_column(JSONB, default=list)  # URLs, featured first
    language: Mapped[str] = mapped_column(String(16), default="en")  # the shop's locale
    # tags, type, vendor and option values: searched with the title
    search_text: Mapped[str] = mapped_column(Text, default="")
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            f"setweight(to_tsvector({TS_CONFIG_FUNCTION}(language), "
            f"{UNACCENT_FUNCTION}(title)), 'A') || "
            f"setweight(to_tsvector({TS_CONFIG_FUNCTION}(language), "
            f"{UNACCENT_FUNCTION}(search_text)), 'B') || "
            f"setweight(to_tsvector({TS_CONFIG_FUNCTION}(language), "
            f"{UNACCENT_FUNCTION}(description)), 'C')",
            persisted=True,
        ),
        deferred=True,
    )
    # Shopify's updatedAt: an older webhook or page never overwrites a newer one
    shopify_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    synced_at: Mapped[datetime] = _now()

    variants: Mapped[list[ProductVariant]] = relationship(
        back_populates="product", lazy="raise", cascade="all, delete-orphan"
    )


class ProductVariant(Base):
    __tablename__ = "product_variants"
    __table_args__ = (
        UniqueConstraint("product_id", "shopify_id"),
        Index("ix_product_variants_inventory_item_id", "inventory_item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    shopify_id: Mapped[int] = mapped_column(BigInteger)
    inventory_item_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(500), default="")
    sku: Mapped[str | None] = mapped_column(String(255))
    # {"Size": "42", "Color": "Red"}, as Shopify names them
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    compare_at_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    inventory_quantity: Mapped[int | None] = mapped_column(Integer)  # None: not tracked
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # when an inventory_levels/update last set the quantity: an older one changes nothing
    inventory_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    product: Mapped[Product] = relationship(back_populates="variants", lazy="raise")


class ShopifyWebhookDelivery(Base):
    """Each Shopify webhook id seen once (X-Shopify-Webhook-Id): retries are no-ops."""

    __tablename__ = "shopify_webhook_deliveries"

    webhook_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    shop_domain: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = _now()


class CsatResponse(Base):
    """A satisfaction survey sent when a conversation was resolved, and the customer's
    answer (`score` 1-5, then an optional `comment`). `ai_only`: no person took part."""

    __tablename__ = "csat_responses"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score"),
        Index("ix_csat_responses_conversation_id", "conversation_id", "created_at"),
        Index("ix_csat_responses_merchant_id", "merchant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    ai_only: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class ShopifyOrder(Base):
    """An order seen in a Shopify webhook, with the conversation it was matched to: what the
    console shows next to a conversation (the details are read live from Shopify)."""

    __tablename__ = "shopify_orders"
    __table_args__ = (
        UniqueConstraint("merchant_id", "shopify_id"),
        Index("ix_shopify_orders_customer_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    shopify_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    financial_status: Mapped[str] = mapped_column(String(32))
    fulfillment_status: Mapped[str] = mapped_column(String(32))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(8))
    tracking_url: Mapped[str | None] = mapped_column(String(1000))
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = _now()


class OrderEvent(Base):
    """One order update (confirmed, paid, shipped, cancelled...) per order: the unique row
    that makes a repeated or re-sent webhook one message at most. `outcome` says what was
    done: sent, template, opted_out, no_customer, skipped."""

    __tablename__ = "order_events"
    __table_args__ = (UniqueConstraint("merchant_id", "shopify_order_id", "event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    shopify_order_id: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    outcome: Mapped[str | None] = mapped_column(String(16))
    message_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _now()


class OrderCode(Base):
    """A one-time code mailed to an order's email, so that a customer writing from another
    number can prove the order is theirs: stored hashed, with an expiry and a try limit;
    `verified_at` set once echoed back (the order is then theirs in this conversation)."""

    __tablename__ = "order_codes"
    __table_args__ = (UniqueConstraint("conversation_id", "shopify_order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    shopify_order_id: Mapped[int] = mapped_column(BigInteger)
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()
class Cart(Base):
    """A conversation's cart (one per conversation): lines by Shopify variant id, priced
    from our synced catalog when read, and the last checkout link made for it."""

    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    checkout_url: Mapped[str | None] = mapped_column(Text)
    # {"variant id": quantity} the link was made for: the same cart reuses it
    checkout_lines: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    lines: Mapped[list[CartLine]] = relationship(
        back_populates="cart", lazy="raise", cascade="all, delete-orphan",
        order_by="CartLine.id",
    )  # fmt: skip


class CartLine(Base):
    __tablename__ = "cart_lines"
    __table_args__ = (
        UniqueConstraint("cart_id", "variant_shopify_id"),
        CheckConstraint("quantity > 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    # Shopify's numeric variant id: a re-sync replaces our variant rows, not Shopify's ids
    variant_shopify_id: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)

    cart: Mapped[Cart] = relationship(back_populates="lines", lazy="raise")


class WebhookInbox(Base):
    """A signed webhook body, committed before the 200 and drained by a worker.

    `shard` picks the one drainer that takes the row (a hash of number and customer, so a
    conversation's notifications are handled in arrival order); `shards` is the count it was
    computed with, so a body that spans shards (one row per shard) is split the same way
    whatever the drainer's setting. A row the drainer cannot handle keeps its `error` and
    waits for a person: parked, never retried.
    """

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        Index("ix_webhook_inbox_waiting", "shard", "id", postgresql_where=text("error IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    shard: Mapped[int] = mapped_column(SmallInteger)
    shards: Mapped[int] = mapped_column(SmallInteger)
    received_at: Mapped[datetime] = _now()
    error: Mapped[str | None] = mapped_column(Text)
