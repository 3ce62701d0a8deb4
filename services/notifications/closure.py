"""What the other staff asked are told once a colleague has answered a notification.

A fixed text, so it is translated here like the holding messages (services.handoff.phrases),
with English for the rest; outside the staff member's 24-hour window the
`notification_closed` template says the same.
"""

from __future__ import annotations

from services.handoff.phrases import phrase

CLOSED = {
    "en": "Notification {ref} has been answered and is now closed.",
    "es": "La notificación {ref} ya ha sido respondida y está cerrada.",
    "pt": "A notificação {ref} já foi respondida e está encerrada.",
    "fr": "La notification {ref} a reçu une réponse et est maintenant close.",
    "de": "Die Benachrichtigung {ref} wurde beantwortet und ist jetzt geschlossen.",
    "it": "La notifica {ref} ha ricevuto risposta ed è ora chiusa.",
    "nl": "Melding {ref} is beantwoord en nu gesloten.",
}


def closed_notice(notification_ref: str, language: str | None) -> str:
    """The notice in `language` (the staff member's, else the merchant's), else English."""
    return phrase(CLOSED, language).format(ref=notification_ref)
