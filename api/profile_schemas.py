"""The WhatsApp business profile as the API shows and takes it (Meta's limits, checked here
so a bad value is a 422 with its reason before Meta is asked)."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Vertical = Literal[
    "UNDEFINED", "OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN", "EVENT_PLAN",
    "FINANCE", "GROCERY", "GOVT", "HOTEL", "HEALTH", "NONPROFIT", "PROF_SERVICES", "RETAIL",
    "TRAVEL", "RESTAURANT", "NOT_A_BIZ",
]  # fmt: skip
VERTICALS: tuple[str, ...] = get_args(Vertical)


class BusinessProfileRead(BaseModel):
    about: str | None = None
    address: str | None = None
    description: str | None = None
    email: str | None = None
    profile_picture_url: str | None = None
    websites: list[str] | None = None
    vertical: str | None = None


class BusinessProfileUpdate(BaseModel):
    """Only the fields given change at Meta. The profile photo is not changed here."""

    model_config = ConfigDict(extra="forbid")
    about: str | None = Field(default=None, min_length=1, max_length=139)
    address: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=512)
    email: str | None = Field(default=None, max_length=128, pattern=r"^[^@\s]+@[^@\s]+$")
    websites: list[str] | None = Field(default=None, max_length=2)
    vertical: Vertical | None = None
