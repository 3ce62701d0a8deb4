"""Request and response bodies of the desk (api.desk, api.canned)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from persistence.models import Priority

_Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
SHORTCUT = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"


class PriorityUpdate(BaseModel):
    priority: Priority


class AssignmentCreate(BaseModel):
    operator_id: _Id | None = Field(description="The operator responsible; null unassigns.")


class LabelsUpdate(BaseModel):
    labels: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        max_length=20, description="Replaces the labels; normalised (trimmed, lowercase)."
    )


class LabelRead(BaseModel):
    label: str
    conversations: int


class NoteCreate(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    for_ai: bool = Field(
        default=False, description="Also give the note to the AI (in its next turns' prompt)."
    )


class NoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    conversation_id: int
    operator_id: int | None
    author: str
    text: str
    for_ai: bool
    created_at: datetime


class CannedResponseCreate(BaseModel):
    merchant_id: _Id
    shortcut: str = Field(
        min_length=1,
        max_length=64,
        pattern=SHORTCUT,
        description="Typed after / in the console composer, e.g. `thanks`.",
    )
    text: str = Field(min_length=1, max_length=4096, description=(
        "The reply; {{customer_name}}, {{operator_name}} and {{merchant_name}} are filled "
        "for the conversation."))  # fmt: skip


class CannedResponseUpdate(BaseModel):
    shortcut: str | None = Field(default=None, min_length=1, max_length=64, pattern=SHORTCUT)
    text: str | None = Field(default=None, min_length=1, max_length=4096)


class CannedResponseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    merchant_id: int
    shortcut: str
    text: str
    created_at: datetime
    updated_at: datetime


class RenderCreate(BaseModel):
    conversation_id: _Id


class RenderedRead(BaseModel):
    text: str
    unknown: list[str] = Field(description="Variables left as written: unknown or without a value.")
