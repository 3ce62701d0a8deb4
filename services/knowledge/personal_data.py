"""Spotting personal details in text that is about to become public knowledge.

A guard, not a classifier: it errs towards refusing. A general fact ("we ship to Canada in
5 days") passes; anything that looks like it points at one person or one order (an email,
a phone or card number, an order or tracking number, a street address, the customer's own
name) does not, and a person rewrites the text before it is published.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_PATTERNS: dict[str, re.Pattern[str]] = {
    "an email address": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "a phone or card number": re.compile(r"\+?\d(?:[\s().-]*\d){7,}"),
    "an order or reference number": re.compile(
        r"#\s?\d{3,}|\b(?:order|pedido|encomenda|commande|orden|bestellung|ref(?:erence)?)"
        r"\s*(?:no\.?|number|n[.ºo°]|#|:)?\s*[A-Z]{0,4}-?\d{3,}",
        re.IGNORECASE,
    ),
    "a tracking code": re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{10,}\b"),
    "a street address": re.compile(
        r"\b\d{1,5}\s+(?:[A-Z][\w'-]*\s+){1,3}(?:St|Street|Ave|Avenue|Rd|Road|Lane|Ln|Blvd|"
        r"Boulevard|Drive|Dr|Way)\b|\b(?:Calle|C/|Rua|Avenida|Av\.|Rue|Via)\s+[^\W\d_][\w' -]{1,40}"
        r",?\s+(?:n[.ºo°]\s*)?\d{1,5}\b",
    ),
}
_MIN_NAME_CHARS = 3


def find_personal_data(text: str, *, names: Iterable[str | None] = ()) -> list[str]:
    """What kinds of personal detail `text` seems to hold; empty when it reads as general.
    `names`: the people it must not mention (the customer who asked, say)."""
    found = [kind for kind, pattern in _PATTERNS.items() if pattern.search(text)]
    lowered = text.casefold()
    for name in names:
        for part in (name or "").split():
            if len(part) >= _MIN_NAME_CHARS and re.search(
                rf"\b{re.escape(part.casefold())}\b", lowered
            ):
                found.append("the customer's name")
                return found
    return found
