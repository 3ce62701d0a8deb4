"""Phone numbers compared as WhatsApp writes them: E.164 digits without the plus."""

from __future__ import annotations

import phonenumbers


def e164_digits(raw: str, country: str | None = None) -> str | None:
    """"+34 600 11 22 33" -> "34600112233"; a national number is read in `country` (the
    order's shipping country); None when it is not a valid number."""
    try:
        parsed = phonenumbers.parse(raw, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def any_matches(phones: tuple[str, ...], country: str | None, wa_id: str | None) -> bool:
    """Whether one of an order's phones is the customer's WhatsApp number."""
    if not wa_id:
        return False
    return any(e164_digits(phone, country) == wa_id for phone in phones)
