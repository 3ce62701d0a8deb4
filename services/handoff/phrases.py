"""The fixed texts a customer may get when no model writes for us, in their language.

These go out exactly when the AI cannot answer (every provider down, no key), so they
cannot be written by a model: they are translated here, with English for the rest.
"""

from __future__ import annotations

from services.conversations.language import base_language

HOLDING = {
    "en": "Thank you for your message. We are having a technical problem right now; a "
    "colleague has been notified and will get back to you here as soon as possible.",
    "es": "Gracias por tu mensaje. Ahora mismo tenemos un problema técnico; hemos avisado a "
    "un compañero, que te responderá aquí lo antes posible.",
    "pt": "Obrigado pela sua mensagem. Estamos com um problema técnico neste momento; um "
    "colega já foi avisado e vai responder aqui o mais rápido possível.",
    "fr": "Merci pour votre message. Nous rencontrons un problème technique en ce moment ; "
    "un collègue a été prévenu et vous répondra ici dès que possible.",
    "de": "Danke für Ihre Nachricht. Wir haben gerade ein technisches Problem; ein Kollege "
    "wurde informiert und meldet sich hier so bald wie möglich bei Ihnen.",
    "it": "Grazie per il tuo messaggio. Al momento abbiamo un problema tecnico; un collega è "
    "stato avvisato e ti risponderà qui il prima possibile.",
    "nl": "Bedankt voor je bericht. We hebben op dit moment een technisch probleem; een "
    "collega is op de hoogte gebracht en reageert hier zo snel mogelijk.",
}

FOLLOW_UP = {
    "en": "Thank you for your patience. A colleague will get back to you here as soon as "
    "possible.",
    "es": "Gracias por tu paciencia. Un compañero te responderá aquí lo antes posible.",
    "pt": "Obrigado pela sua paciência. Um colega vai responder aqui o mais rápido possível.",
    "fr": "Merci de votre patience. Un collègue vous répondra ici dès que possible.",
    "de": "Danke für Ihre Geduld. Ein Kollege meldet sich hier so bald wie möglich bei Ihnen.",
    "it": "Grazie per la pazienza. Un collega ti risponderà qui il prima possibile.",
    "nl": "Bedankt voor je geduld. Een collega reageert hier zo snel mogelijk.",
}


def phrase(table: dict[str, str], language: str | None) -> str:
    """The text in `language` (an ISO 639-1 code, region ignored), else in English."""
    return table.get(base_language(language or "en"), table["en"])


def speaks(table: dict[str, str], language: str | None) -> bool:
    return language is not None and base_language(language) in table
