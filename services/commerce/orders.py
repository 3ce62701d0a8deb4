"""Order lookups for the customer's model, read live from Shopify's Admin API.

An order is disclosed only to its own customer: one of the order's phones is the
conversation's WhatsApp number, or the customer echoed the one-time code mailed to the
order's email. Any other case gets the same answer, NOT_FOUND, whatever failed (no such
order, another person's order, a wrong email or code), so the answers tell nobody whether
an order or an email exists. Asking with an email always gets the same CODE_SENT answer;
the code is only mailed when the email is the order's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from channels.shopify.client import ShopifyError
from channels.shopify.orders import OrderRecord
from observability.logs import get_logger
from persistence.models import Customer, ShopifyStore
from services.commerce import order_codes
from services.commerce.clients import shopify_client
from services.commerce.order_book import remember_order
from services.commerce.order_present import orders_text
from services.commerce.phones import any_matches
from services.commerce.queries import store_of
from services.conversations.conversation import conversation_parties
from services.errors import InvalidInput
from services.mail.mailer import Mail, MailError, send_mail
from settings import get_settings

log = get_logger(__name__)

NOT_FOUND = "I can't find an order with those details for you."
NOT_FOUND_TEXT = (
    f'"{NOT_FOUND}" Tell the customer exactly this, in their language, and nothing more about '
    "the order. If they have not given it yet, you may ask for the order number and the email "
    "address they used for the order."
)
CODE_SENT_TEXT = (
    "If that email address is the order's, a 6-digit code has just been sent to it. Ask the "
    "customer to write the code here, then call lookup_order again with the same order_number "
    "and email and the code. Say nothing else about the order yet."
)
NO_STORE_TEXT = "Error: this business has no online store connected: no orders to look up."
UNREACHABLE_TEXT = "Error: the online store cannot be reached now. Ask the customer to try later."
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NAME = re.compile(r"[\w-]{1,40}")


@dataclass(frozen=True)
class Lookup:
    outcome: Literal["found", "code_sent", "not_found", "no_store", "unreachable"]
    text: str  # what the model reads
    orders: list[OrderRecord] = field(default_factory=list)


def order_name(value: str | None) -> str | None:
    """"#1001", "1001", "# 1001" -> "1001"; None when not given."""
    if value is None or not value.strip():
        return None
    name = value.strip().removeprefix("#").strip()
    if not _NAME.fullmatch(name):
        raise InvalidInput(f"order_number must be the order's number, such as #1001, not {value!r}")
    return name


def email_of(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    email = value.strip().lower()
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        raise InvalidInput(f"email must be an email address, not {value!r}")
    return email


def lookup_order(
    session: Session,
    *,
    conversation_id: int,
    order_number: str | None,
    email: str | None,
    code: str | None = None,
) -> Lookup:
    name, mail = order_name(order_number), email_of(email)
    if name is None and mail is None:
        raise InvalidInput("give the order_number (such as #1001) or the order's email")
    _, customer, phone = conversation_parties(session, conversation_id)
    store = store_of(session, phone.merchant_id)
    if store is None:
        return Lookup("no_store", NO_STORE_TEXT)
    try:
        candidates = _candidates(store, name, mail)
    except ShopifyError as exc:
        log.warning("orders.lookup.unreachable", error=exc.message)
        return Lookup("unreachable", UNREACHABLE_TEXT)
    owned = [o for o in candidates if _owned(session, conversation_id, customer, o)]
    if owned:
        return _found(session, store, conversation_id, customer, owned)
    if mail is None:
        return Lookup("not_found", NOT_FOUND_TEXT)
    order = next((o for o in candidates if (o.email or "").lower() == mail), None)
    if code and code.strip():
        if order is not None and order_codes.verify(
            session, conversation_id=conversation_id, order_id=order.shopify_id, code=code
        ):
            return _found(session, store, conversation_id, customer, [order])
        return Lookup("not_found", NOT_FOUND_TEXT)
    if order is not None:
        _mail_code(session, store, conversation_id, order, mail)
    return Lookup("code_sent", CODE_SENT_TEXT)


def owned_order(session: Session, *, conversation_id: int, order_number: str) -> OrderRecord | None:
    """The order if it was shown to this conversation's customer (phone or code), else None."""
    name = order_name(order_number)
    _, customer, phone = conversation_parties(session, conversation_id)
    store = store_of(session, phone.merchant_id)
    if store is None or name is None:
        return None
    candidates = _candidates(store, name, None)
    return next((o for o in candidates if _owned(session, conversation_id, customer, o)), None)


def _candidates(store: ShopifyStore, name: str | None, mail: str | None) -> list[OrderRecord]:
    search = f"name:#{name}" if name else f'email:"{mail}"'
    with shopify_client(store.shop_domain, store.access_token) as client:
        orders = client.find_orders(search)
    if name:  # Shopify's search is loose; the number must be exactly the one asked for
        orders = [o for o in orders if o.number.lower() == name.lower()]
    return orders


def _owned(session: Session, conversation_id: int, customer: Customer, order: OrderRecord) -> bool:
    if any_matches(order.phones, order.country, customer.wa_id):
        return True
    return order_codes.is_verified(session, conversation_id, order.shopify_id)


def _found(
    session: Session, store: ShopifyStore, conversation_id: int, customer: Customer,
    orders: list[OrderRecord],
) -> Lookup:  # fmt: skip
    for order in orders:
        remember_order(session, merchant_id=store.merchant_id, order=order,
                       conversation_id=conversation_id, customer_id=customer.id)  # fmt: skip
    language = customer.language or store.primary_locale
    return Lookup("found", orders_text(orders, language), orders)


def _mail_code(
    session: Session, store: ShopifyStore, conversation_id: int, order: OrderRecord, mail: str
) -> None:
    code = order_codes.issue(session, conversation_id=conversation_id, order_id=order.shopify_id)
    if code is None:
        return  # the last code is still valid
    minutes = int(get_settings().order_code_minutes)
    body = (
        f"Your code to see order {order.name} at {store.shop_name} on WhatsApp is {code}.\n\n"
        f"It is valid for {minutes} minutes. If you did not ask for it, ignore this email."
    )
    try:
        subject = f"{store.shop_name}: your code {code}"
        send_mail(Mail(to=mail, subject=subject, body=body), merchant_id=store.merchant_id)
    except MailError as exc:  # forget the code, so that asking again sends a new one
        log.warning("orders.code.mail_failed", error=str(exc))
        order_codes.forget(session, conversation_id=conversation_id, order_id=order.shopify_id)
