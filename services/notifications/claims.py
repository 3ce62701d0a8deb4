"""A staff member claims a request by tapping "I'll answer" on it (the quick-reply button
of the request template, whose payload is the notification's id): the claim is recorded
so colleagues see it is being handled, and the tap is acknowledged without the model.
They then write the answer as usual, through their agent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from channels.webhook import choice_of
from observability.logs import get_logger
from persistence.models import MerchantUser, Message, Notification, NotificationStatus
from services.notifications.notifications import PREFIX, ref
from services.templates.defaults import pick_language

log = get_logger(__name__)

_QUIET = frozenset({"reaction"})
_ACK = {
    "en": "Thanks — write your answer to {ref} here.",
    "es": "Gracias — escribe aquí tu respuesta a {ref}.",
    "pt_BR": "Obrigado — escreva aqui a sua resposta a {ref}.",
    "fr": "Merci — écrivez ici votre réponse à {ref}.",
}
_TAKEN = {
    "en": "{ref} is already being handled by {name}. Write here if you want to add to it.",
    "es": "{name} ya se está ocupando de {ref}. Escribe aquí si quieres añadir algo.",
    "pt_BR": "{name} já está cuidando de {ref}. Escreva aqui se quiser acrescentar algo.",
    "fr": "{name} s'occupe déjà de {ref}. Écrivez ici si vous voulez ajouter quelque chose.",
}
_DONE = {
    "en": "{ref} has already been answered: nothing more is needed.",
    "es": "{ref} ya ha sido respondida: no hace falta nada más.",
    "pt_BR": "{ref} já foi respondida: não é preciso mais nada.",
    "fr": "{ref} a déjà reçu une réponse : rien de plus n'est nécessaire.",
}


def claim_from_burst(
    session: Session,
    *,
    burst: Sequence[Message],
    merchant_id: int,
    staff_user_id: int,
    language: str | None,
) -> str | None:
    """When the burst is only a tap on a request's claim button: record the claim and
    return the acknowledgement to send; None for anything else (the agent answers)."""
    spoken = [m for m in burst if m.type not in _QUIET]
    if not spoken or any(m.type != "button" for m in spoken):
        return None
    choice = choice_of(spoken[-1].raw)
    number = _notification_number(choice.id if choice else "")
    notification = session.get(Notification, number) if number else None
    staff = session.get(MerchantUser, staff_user_id)
    if notification is None or notification.merchant_id != merchant_id or staff is None:
        return None
    return _claim(notification, staff, language)


def _claim(notification: Notification, staff: MerchantUser, language: str | None) -> str:
    code = pick_language(_ACK, language) or "en"
    values = {"ref": ref(notification.id), "name": notification.claimed_by or ""}
    if notification.status != NotificationStatus.REQUESTED:
        return _DONE[code].format(**values)
    if notification.claimed_by_user_id not in (None, staff.id):
        return _TAKEN[code].format(**values)
    if notification.claimed_by_user_id is None:
        notification.claimed_by, notification.claimed_by_user_id = staff.name, staff.id
        notification.claimed_at = datetime.now(UTC)
        log.info("notifications.claimed", notification_id=notification.id, user_id=staff.id)
    return _ACK[code].format(**values)


def _notification_number(payload: str) -> int | None:
    if not payload.startswith(PREFIX):
        return None
    digits = payload[len(PREFIX) :]
    return int(digits) if digits.isdigit() and int(digits) < 2**31 else None
