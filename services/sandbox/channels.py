"""The sandbox's other channels: a Twilio WhatsApp sender and an Instagram account of the
sandbox merchant, with one customer each to play.

Their secrets carry the sandbox prefix, so while the sandbox runs their sends go to its own
fakes of Twilio and Instagram inside this server (services.merchants.clients), never to the
providers. What a person types there reaches /webhooks/twilio or /webhooks/instagram signed
as the provider signs.
"""

from __future__ import annotations

import contextlib
import secrets

from sqlalchemy.orm import Session

from persistence.models import ChannelType
from services.errors import Conflict
from services.merchants.channel import add_channel
from services.merchants.merchant import find_phone_number
from services.sandbox.phone import Persona
from settings import SANDBOX_TOKEN_PREFIX

TWILIO_ACCOUNT_SID = "AC" + "5a" * 16
TWILIO_SENDER = "+15550100050"
INSTAGRAM_ACCOUNT_ID = "17841400000000777"
TWILIO_CUSTOMER = Persona(
    wa_id="15550100002", name="Tom via Twilio", role="customer",
    channel=ChannelType.TWILIO_WHATSAPP,
)  # fmt: skip
# an Instagram-scoped id: the chat is named by it, as the customer has no phone number
INSTAGRAM_CUSTOMER = Persona(
    wa_id="6100000000000001", name="Ivy on Instagram", role="customer",
    channel=ChannelType.INSTAGRAM,
)  # fmt: skip
ACCOUNTS: dict[str, str] = {
    ChannelType.TWILIO_WHATSAPP: TWILIO_SENDER,
    ChannelType.INSTAGRAM: INSTAGRAM_ACCOUNT_ID,
}


def ensure_channels(session: Session, merchant_id: int) -> None:
    """The sandbox merchant's Twilio sender and Instagram account, created once."""
    for type, external_id in ACCOUNTS.items():
        if find_phone_number(session, external_id, type=type) is not None:
            continue
        with contextlib.suppress(Conflict), session.begin_nested():  # a concurrent first visit
            add_channel(
                session, merchant_id=merchant_id, type=type, external_id=external_id,
                secret=SANDBOX_TOKEN_PREFIX + secrets.token_urlsafe(24),
                display_name="@sandbox.running" if type == ChannelType.INSTAGRAM else None,
                account_sid=TWILIO_ACCOUNT_SID if type == ChannelType.TWILIO_WHATSAPP else None,
            )  # fmt: skip
            session.flush()


def chat_account_id(persona: Persona, whatsapp_number_id: str) -> str:
    """Whose phone screen holds the persona's chat: the provider id of the account."""
    return ACCOUNTS.get(persona.channel, whatsapp_number_id)

