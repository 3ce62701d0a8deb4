"""Which Twilio sender a webhook is for, and the auth token that signs it."""

from __future__ import annotations

from dataclasses import dataclass

from persistence.db import session_scope
from persistence.models import ChannelType
from services.merchants.merchant import find_phone_number


@dataclass(frozen=True)
class TwilioAccount:
    account_sid: str | None
    auth_token: str


def twilio_account(sender: str) -> TwilioAccount | None:
    """The connected Twilio WhatsApp sender `+E164`, or None when nobody connected it."""
    with session_scope() as session:
        phone = find_phone_number(session, sender, type=ChannelType.TWILIO_WHATSAPP)
        return None if phone is None else TwilioAccount(phone.account_sid, phone.auth_token)
