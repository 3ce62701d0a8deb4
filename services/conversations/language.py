"""The customer's language, detected from what they write and remembered.

The model used to answer in "the language of the latest message", which flips on "ok", an
emoji or a product name. A message long enough to tell (and told with confidence) sets the
customer's language; anything shorter leaves it as it was. Detection runs locally (py3langid
ships its model in the wheel: nothing is downloaded) in about a millisecond.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from observability.logs import get_logger
from persistence.models import Customer

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

log = get_logger(__name__)

# The languages told apart: the ones businesses chat in most on WhatsApp. Fewer
# candidates make short messages far more reliable.
LANGUAGES = (
    "en", "es", "pt", "fr", "de", "it", "nl", "ca", "ar", "hi", "ur", "bn", "ta", "id", "ms",
    "tl", "vi", "th", "zh", "ja", "ko", "tr", "ru", "uk", "pl", "ro", "el", "cs", "hu", "sv",
    "da", "no", "fi", "he", "fa", "sw",
)  # fmt: skip
MIN_LETTERS = 12
# Short texts are told less reliably ("a poisonous question" scores 0.89 for French): a
# text under LONG_LETTERS must be told with near certainty to differ from the prior.
LONG_LETTERS = 30
MIN_CONFIDENCE = 0.8
MIN_CONFIDENCE_SHORT = 0.95


@cache
def _identifier() -> LanguageIdentifier:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def load_identifier() -> None:
    """Load the language model now rather than on the first detection."""
    _identifier()


def base_language(code: str) -> str:
    """`es-MX`, `pt_BR`, `EN` -> `es`, `pt`, `en`: the language, region aside."""
    return code.split("-")[0].split("_")[0].lower()


def detect_language(text: str, prior: str | None = None) -> str | None:
    """The ISO 639-1 code of `text`'s language, or None when it is too short to tell.
    `prior` (the language expected) needs no more than a plain majority to be confirmed."""
    letters = sum(char.isalpha() for char in text)
    if letters < MIN_LETTERS or len(text.split()) < 2:
        return None
    language, confidence = _identifier().classify(text)
    needed = MIN_CONFIDENCE if letters >= LONG_LETTERS else MIN_CONFIDENCE_SHORT
    if language == prior:
        needed = 0.5
    return str(language) if confidence >= needed else None


def remember_language(
    session: Session, customer: Customer, texts: Iterable[str], *, default: str
) -> None:
    """Set the customer's language from what they just wrote, if it tells; their language
    so far (else the merchant's `default`) is what is expected."""
    text = "\n".join(text for text in texts if text)
    detected = detect_language(text, prior=customer.language or default)
    if detected and detected != customer.language:
        log.info("customer.language", customer_id=customer.id, language=detected,
                 previous=customer.language)  # fmt: skip
        customer.language = detected
