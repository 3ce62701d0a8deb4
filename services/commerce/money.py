"""Prices as a customer reads them, in the shop's currency and language."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_SYMBOLS = {
    "EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "BRL": "R$", "MXN": "$", "CAD": "CA$",
    "AUD": "A$", "CHF": "CHF ", "INR": "₹", "ARS": "$", "COP": "$", "CLP": "$",
}  # fmt: skip
_NO_CENTS = {"JPY", "CLP", "COP", "KRW", "VND", "HUF", "ISK"}
# languages that write 1.234,50 € rather than €1,234.50
_COMMA_DECIMAL = {"es", "pt", "fr", "de", "it", "nl", "pl", "tr", "ru", "sv", "da", "nb", "fi"}


def format_price(amount: Decimal, currency: str, language: str = "en") -> str:
    """ "€89.00" in English, "89,00 €" in Spanish; unknown currencies as "89.00 XYZ"."""
    code = currency.upper()
    places = Decimal(1) if code in _NO_CENTS else Decimal("0.01")
    value = amount.quantize(places, rounding=ROUND_HALF_UP)
    number = f"{value:,}"
    lang = language.split("-")[0].split("_")[0].lower()
    if lang in _COMMA_DECIMAL:
        number = number.replace(",", "\0").replace(".", ",").replace("\0", ".")
        if lang == "fr":
            number = number.replace(".", "\u202f")
        return f"{number} {_SYMBOLS.get(code, code + ' ').strip()}"
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{number}" if symbol else f"{number} {code}"
