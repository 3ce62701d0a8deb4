"""Bodies of the channel account API; credentials go in, never come out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from persistence.models import PhoneNumber

Secret = Annotated[str, Field(min_length=1, max_length=1000)]
Sender = Annotated[
    str, Field(pattern=r"^\+[1-9]\d{6,14}$", description="E.164 number, e.g. +14155238886")
]
AccountSid = Annotated[str, Field(pattern=r"^AC[0-9a-fA-F]{32}$", description="Twilio AC...")]
ContentSids = Annotated[
    dict[
        Annotated[str, Field(max_length=64)], Annotated[str, Field(pattern=r"^HX[0-9a-fA-F]{32}$")]
    ],
    Field(
        max_length=50,
        description="Our template role (e.g. `escalation`, `reengage`) -> Twilio Content "
        "API ContentSid (HX...), used for sends outside the 24 h window",
    ),
]


class WhatsAppCloudCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["whatsapp_cloud"]
    phone_number_id: str = Field(min_length=1, max_length=64, pattern=r"^\d+$")
    access_token: Secret
    waba_id: str | None = Field(default=None, max_length=64, pattern=r"^\d+$")
    display_phone_number: str | None = Field(default=None, max_length=32)


class TwilioWhatsAppCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["twilio_whatsapp"]
    account_sid: AccountSid
    auth_token: Secret
    sender: Sender
    content_sids: ContentSids | None = None


class InstagramCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["instagram"]
    instagram_account_id: str = Field(min_length=1, max_length=64, pattern=r"^\d+$")
    access_token: Secret
    username: str | None = Field(default=None, max_length=32)


ChannelCreate = Annotated[
    WhatsAppCloudCreate | TwilioWhatsAppCreate | InstagramCreate, Field(discriminator="type")
]


class ChannelUpdate(BaseModel):
    """Only the fields given change; each type accepts its own (422 otherwise)."""

    model_config = ConfigDict(extra="forbid")
    access_token: Secret | None = None
    auth_token: Secret | None = None
    account_sid: AccountSid | None = None
    display_phone_number: str | None = Field(default=None, min_length=1, max_length=32)
    content_sids: ContentSids | None = None

    def changes(self) -> dict[str, Any]:
        """The model's column names: a Twilio auth token lives in `access_token`."""
        data = self.model_dump(exclude_unset=True)
        if "auth_token" in data:
            data["access_token"] = data.pop("auth_token")
        return data


class ChannelRead(BaseModel):
    id: int
    type: str
    external_id: str = Field(
        description="Meta's phone number id, the Twilio sender or the Instagram account id"
    )
    display_name: str | None
    account_sid: str | None = None
    content_sids: dict[str, Any] | None = None
    created_at: datetime

    @classmethod
    def of(cls, account: PhoneNumber) -> ChannelRead:
        return cls(
            id=account.id,
            type=account.type,
            external_id=account.phone_number_id,
            display_name=account.display_phone_number,
            account_sid=account.account_sid,
            content_sids=account.content_sids,
            created_at=account.created_at,
        )
