"""The WhatsApp business profile as the API shows and takes it (Meta's limits, checked here
so a bad value is a 422 with its reason before Meta is asked)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

Vertical = Literal[
    "UNDEFINED", "OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN", "EVENT_PLAN",
    "FINANCE", "GROCERY", "GOVT", "HOTEL", "HEALTH", "NONPROFIT", "PROF_SERVICES", "RETAIL",
    "TRAVEL", "RESTAURANT", "NOT_A_BIZ",
]  # fmt: skip
VERTICALS: tuple[str, ...] = get_args(Vertical)
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# Meta takes a website only with its scheme
Website = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=256, pattern=r"^https?://\S+$")
]


class BusinessProfileRead(BaseModel):
    about: str | None = None
    address: str | None = None
    description: str | None = None
    email: str | None = None
    profile_picture_url: str | None = None
    websites: list[str] | None = None
    vertical: str | None = None


class BusinessProfileUpdate(BaseModel):
    """Only the fields given change at Meta; a field left out stays as it is. `null` or ""
    clears `address`, `description` or `email`, and `null` or `[]` clears `websites`.
    WhatsApp never lets `about` be empty nor `vertical` be unset again, so those can be
    changed but not cleared. The profile photo is not changed here."""

    model_config = ConfigDict(extra="forbid")
    about: str | None = Field(default=None, min_length=1, max_length=139)
    address: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=512)
    email: str | None = Field(default=None, max_length=128, pattern=EMAIL)
    websites: list[Website] | None = Field(default=None, max_length=2)
    vertical: Vertical | None = None

    @field_validator("about", "address", "description", "email", "websites", mode="before")
    @classmethod
    def _empty_clears(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
        return None if value in ("", []) else value

    @model_validator(mode="after")
    def _not_clearable(self) -> BusinessProfileUpdate:
        for name in ("about", "vertical"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(
                    f"{name} cannot be cleared: WhatsApp keeps one once set; give a new value"
                )
        return self

    def changes(self) -> dict[str, Any]:
        """The fields given, a cleared one as None."""
        return self.model_dump(exclude_unset=True)
