"""How a customer is matched by what an operator types (shared by the customer search and
the conversation list)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, literal, literal_column, or_

from persistence.models import Customer

_EMPTY: ColumnElement[str] = literal_column("''")
_SPACE: ColumnElement[str] = literal_column("' '")
# Identical to the expression of the index `ix_customers_identity_trgm` (migration 0011),
# constants written inline (not bound), so that a substring search over it is an index scan.
IDENTITY_TEXT = func.lower(
    func.switchboard_unaccent(
        func.coalesce(Customer.profile_name, _EMPTY).op("||")(_SPACE)
        .op("||")(func.coalesce(Customer.username, _EMPTY)).op("||")(_SPACE)
        .op("||")(func.coalesce(Customer.wa_id, _EMPTY)).op("||")(_SPACE)
        .op("||")(func.coalesce(Customer.user_id, _EMPTY))
    )
)  # fmt: skip


def normalised_id(value: str) -> str:
    """A phone number as WhatsApp writes it (`wa_id`): no leading "+"; a user id as given."""
    return value.strip().removeprefix("+")


def is_customer(value: str) -> ColumnElement[bool]:
    """The customer whose wa_id or business-scoped user id is `value`."""
    value = normalised_id(value)
    return or_(Customer.wa_id == value, Customer.user_id == value)


def identity_contains(text: str) -> ColumnElement[bool]:
    """Name, username, number or user id contains `text` (case and accents ignored; a
    leading "+" or "@" ignored)."""
    needle = text.strip().removeprefix("+").removeprefix("@")
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = func.lower(func.switchboard_unaccent(literal(f"%{escaped}%")))
    return IDENTITY_TEXT.like(pattern, escape="\\")
