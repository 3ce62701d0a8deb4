"""What a customer is promised when they ask for a person outside business hours.

Fixed, translated texts (like services.handoff.phrases): they go out in the holding and
follow-up messages, when no model may be there to write them, and the AI is handed the
same facts in its tool results to say in its own words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from persistence.models import Merchant
from services.clock import now as clock_now
from services.conversations.conversation import conversation_parties
from services.conversations.language import base_language
from services.handoff.phrases import phrase
from services.hours.business import schedule_of
from services.hours.schedule import is_open, next_opening

CLOSED = {
    "en": "We are closed right now; we'll get back to you when we open at {time}, {day}.",
    "es": "Ahora mismo estamos cerrados; te responderemos cuando abramos a las {time}, {day}.",
    "pt": "Estamos fechados neste momento; responderemos quando abrirmos às {time}, {day}.",
    "fr": "Nous sommes fermés pour le moment ; nous vous répondrons à notre ouverture à "
    "{time}, {day}.",
    "de": "Wir haben gerade geschlossen; wir melden uns, sobald wir um {time} öffnen, {day}.",
    "it": "Al momento siamo chiusi; ti risponderemo quando apriremo alle {time}, {day}.",
    "nl": "We zijn nu gesloten; we reageren zodra we opengaan om {time}, {day}.",
}
DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "pt": ("segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira",
           "sábado", "domingo"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
}  # fmt: skip


@dataclass(frozen=True)
class Opening:
    """The next opening, in the merchant's local time."""

    at: datetime

    def words(self, language: str | None, now: datetime) -> str:
        """The promise in `language` (English when we have no translation)."""
        day = DAYS.get(base_language(language or "en"), DAYS["en"])[self.at.weekday()]
        if self.at.date() - now.astimezone(self.at.tzinfo).date() >= timedelta(days=7):
            day = f"{day} {self.at:%d/%m}"
        return phrase(CLOSED, language).format(time=f"{self.at:%H:%M}", day=day)

    def for_model(self) -> str:
        return f"{self.at:%A %d %B at %H:%M} ({self.at.tzinfo})"


def next_opening_for(merchant: Merchant, at: datetime) -> Opening | None:
    """None while open (or with no hours, or no opening in sight)."""
    schedule = schedule_of(merchant)
    if is_open(schedule, at):
        return None
    opening = next_opening(schedule, at)
    return Opening(opening.astimezone(schedule.zone)) if opening else None


def closed_promise(session: Session, conversation_id: int) -> str | None:
    """The customer's promise, in their language, when the business is closed now."""
    _, customer, phone = conversation_parties(session, conversation_id)
    merchant = session.get(Merchant, phone.merchant_id)
    assert merchant is not None
    now = clock_now()
    opening = next_opening_for(merchant, now)
    if opening is None:
        return None
    return opening.words(customer.language or merchant.default_language, now)


def closed_note_for_model(session: Session, conversation_id: int) -> str:
    """Appended to request_intervention / request_notification results: what to promise."""
    _, _, phone = conversation_parties(session, conversation_id)
    merchant = session.get(Merchant, phone.merchant_id)
    assert merchant is not None
    opening = next_opening_for(merchant, clock_now())
    if opening is None:
        return ""
    return (
        f" The business is closed now and opens {opening.for_model()}: tell the customer, "
        "in their language, that we'll get back to them when we open then (give the day "
        "and time); do not promise an answer sooner. Keep helping with anything you can "
        "answer yourself."
    )
