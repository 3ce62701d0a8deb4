"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PhoneNumberCreate(BaseModel):
    phone_number_id: str = Field(min_length=1, max_length=64)
    access_token: str = Field(min_length=1)
    display_phone_number: str | None = Field(default=None, max_length=32)


class PhoneNumberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    phone_number_id: str
    display_phone_number: str | None


class MerchantCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    tone: str = Field(default="friendly and concise", max_length=200)
    default_language: str = Field(default="en", min_length=2, max_length=16)
    phone_numbers: list[PhoneNumberCreate] = Field(default_factory=list)


class MerchantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str
    tone: str
    default_language: str
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


class ConversationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    phone_number_id: int
    customer_id: int
    mode: str
    needs_human: bool
    needs_human_reason: str | None
    last_inbound_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ConversationDetail(ConversationRead):
    messages: list[MessageRead]
