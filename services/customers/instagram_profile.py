"""An Instagram customer's name and username: webhooks carry only their IGSID, so the User
Profile API is asked once, after their first message. Best effort: without it the console
shows the IGSID."""

from __future__ import annotations

from channels.errors import WhatsAppError
from channels.instagram.channel import InstagramChannel
from observability.logs import get_logger
from persistence.db import session_scope
from persistence.models import Customer, PhoneNumber
from services.merchants.clients import client_for

log = get_logger(__name__)


def learn_profile(customer_id: int, account_id: int) -> str:
    with session_scope() as session:
        customer = session.get(Customer, customer_id)
        account = session.get(PhoneNumber, account_id)
        if customer is None or account is None or customer.profile_name or not customer.user_id:
            return "skipped"
        channel, igsid = client_for(account), customer.user_id
    if not isinstance(channel, InstagramChannel):
        return "skipped"
    try:
        profile = channel.user_profile(igsid)
    except WhatsAppError as exc:  # a private account, a revoked token: names are optional
        log.info("instagram.profile.unavailable", customer_id=customer_id, error=str(exc))
        return "unavailable"
    with session_scope() as session:
        customer = session.get(Customer, customer_id)
        if customer is None or customer.profile_name:
            return "skipped"
        if profile.get("name"):
            customer.profile_name = profile["name"][:200]
        if profile.get("username") and not customer.username:
            customer.username = profile["username"][:64]
    return "learned"
