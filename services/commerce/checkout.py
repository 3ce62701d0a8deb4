"""Checkout: a link to pay for the conversation's cart at the merchant's store, sent as a
call-to-action URL button (numbered-text fallback: the link in plain text).

The link is Shopify's: the Storefront API's `cartCreate` checkout URL when the store has
a Storefront token, otherwise a cart permalink. Both carry the attribute
`switchboard_conversation_id`, which the order that comes back keeps, so it can be matched
to the conversation; a Storefront cart also carries the customer's phone (`buyerIdentity`),
so the checkout comes prefilled. The same cart reuses its link (a redone turn sends the
same message); Shopify is asked outside any database transaction. The AI sends the link
from its `checkout` tool, an operator from the console or the API (operator_checkout).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import phonenumbers

from channels.shopify.client import ShopifyError
from channels.shopify.storefront import BuyerIdentity, Line, cart_permalink
from observability.logs import get_logger
from persistence.db import session_scope
from persistence.models import Cart, ConversationMode, Customer, DeliveryStatus
from services.access.auth import Principal
from services.commerce.cart import CartView, view_cart
from services.commerce.clients import storefront_client
from services.commerce.errors import CheckoutRefused
from services.commerce.queries import cart_of, merchant_of_conversation, store_of
from services.conversations.conversation import conversation_parties, get_conversation
from services.delivery.flows import send_offer
from services.errors import Conflict, InvalidInput, NotFound
from services.handoff.flows import send_operator_message
from services.handoff.handoff import ConversationRef, locate
from services.interactive.offer import Offer

log = get_logger(__name__)
CONVERSATION_ATTRIBUTE = "switchboard_conversation_id"
_LABELS = {"en": "Checkout", "es": "Finalizar compra", "pt": "Finalizar compra",
           "fr": "Commander", "de": "Zur Kasse", "it": "Vai alla cassa"}  # fmt: skip
_TOTAL = {"es": "Total", "pt": "Total", "fr": "Total", "de": "Summe", "it": "Totale"}


@dataclass(frozen=True)
class CheckoutSent:
    url: str
    status: DeliveryStatus
    sent_as: str | None  # cta_url, or numbered (plain text)
    cart: CartView


@dataclass(frozen=True)
class OperatorCheckout:
    url: str
    message_id: int
    status: DeliveryStatus
    cart: CartView


@dataclass(frozen=True)
class _Plan:
    lines: list[Line]
    shop_domain: str
    storefront_token: str | None
    reuse: str | None  # the link already made for these very lines
    cart: CartView
    language: str
    buyer: BuyerIdentity | None  # the customer's phone, to prefill Shopify's checkout


def checkout(*, conversation_id: int, turn_id: int, merchant_id: int) -> CheckoutSent:
    """Make (or reuse) the cart's checkout link, record it and send it now (the AI's)."""
    plan, offer = _checkout_offer(conversation_id, merchant_id)
    sent = send_offer(conversation_id=conversation_id, turn_id=turn_id, offer=offer)
    log.info("commerce.checkout.sent", conversation_id=conversation_id, status=sent.status,
             lines=len(plan.lines), storefront=plan.storefront_token is not None)  # fmt: skip
    return CheckoutSent(str(offer.url), sent.status, sent.sent_as, plan.cart)


def operator_checkout(ref: ConversationRef, principal: Principal) -> OperatorCheckout:
    """An operator sends the conversation's cart as a checkout link, through the operator's
    outbound path (taken over first; outside the window it is parked like their text)."""
    with session_scope() as session:
        conversation = get_conversation(session, locate(session, ref), merchant_id=ref.merchant_id)
        if conversation.mode != ConversationMode.OPERATOR:
            raise Conflict(
                f"conversation {conversation.id} is with the AI: take it over first "
                "(POST /api/v1/takeover), then send the checkout link"
            )  # fmt: skip
        conversation_id = conversation.id
        merchant_id = merchant_of_conversation(session, conversation_id)
        assert merchant_id is not None
    plan, offer = _checkout_offer(conversation_id, merchant_id)
    ref = replace(ref, conversation_id=conversation_id)
    message_id, status = send_operator_message(ref, principal, None, media_key=None, offer=offer)
    log.info("commerce.checkout.operator_sent", conversation_id=conversation_id, status=status,
             lines=len(plan.lines))  # fmt: skip
    return OperatorCheckout(str(offer.url), message_id, status, plan.cart)


def _checkout_offer(conversation_id: int, merchant_id: int) -> tuple[_Plan, Offer]:
    """The cart's link (made, or reused for the very same lines) recorded on the cart, as
    a call-to-action button under the cart's summary."""
    plan = _plan(conversation_id, merchant_id)
    url = plan.reuse or _make_link(plan, conversation_id)
    with session_scope() as session:
        cart = cart_of(session, conversation_id=conversation_id, merchant_id=merchant_id)
        assert cart is not None
        _record(cart, url, plan.lines)
    offer = Offer(
        "cta_url", summary(plan.cart, plan.language), url=url,
        url_label=_LABELS.get(plan.language, _LABELS["en"]),
    )  # fmt: skip
    return plan, offer


def summary(cart: CartView, language: str) -> str:
    """One line per item and the total, in the shop's currency."""
    lines = [
        f"{line.quantity} x {line.title}"
        + (f" ({' / '.join(line.options.values())})" if line.options else "")
        + f": {cart.price(line.total)}"
        for line in cart.lines
        if line.problem is None
    ]
    lines.append(f"*{_TOTAL.get(language, 'Total')}: {cart.price(cart.total)}*")
    return "\n".join(lines)[:1024]


def _plan(conversation_id: int, merchant_id: int) -> _Plan:
    with session_scope() as session:
        view = view_cart(session, conversation_id=conversation_id, merchant_id=merchant_id)
        problems = [f"{line.variant_id} ({line.problem})" for line in view.lines if line.problem]
        if problems:
            raise InvalidInput(
                "fix the cart first, these items cannot be bought now: " + ", ".join(problems)
            )
        if not view.lines:
            raise NotFound("the cart is empty: add items with add_to_cart first")
        store = store_of(session, merchant_id)
        cart = cart_of(session, conversation_id=conversation_id, merchant_id=merchant_id)
        assert store is not None and cart is not None
        lines = [Line(line.variant_id, line.quantity) for line in view.lines]
        _, customer, _ = conversation_parties(session, conversation_id)
        reuse = cart.checkout_url if cart.checkout_lines == _key(lines) else None
        return _Plan(lines, store.shop_domain, store.storefront_access_token, reuse, view,
                     _language(customer, view.language), buyer_identity(customer))  # fmt: skip


def buyer_identity(customer: Customer) -> BuyerIdentity | None:
    """The customer's WhatsApp number in E.164 and its country, when it is a valid number
    (a business-scoped user id alone, or a number Shopify would refuse, gives none)."""
    if not customer.wa_id:
        return None
    try:
        number = phonenumbers.parse(f"+{customer.wa_id}", None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    region = phonenumbers.region_code_for_number(number)
    country = region if region and len(region) == 2 and region.isalpha() else None
    return BuyerIdentity(
        phone=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        country_code=country,
    )


def _language(customer: Customer, default: str) -> str:
    return (customer.language or default).split("-")[0].split("_")[0].lower()


def _make_link(plan: _Plan, conversation_id: int) -> str:
    attributes = {CONVERSATION_ATTRIBUTE: str(conversation_id)}
    if not plan.storefront_token:
        return cart_permalink(plan.shop_domain, plan.lines, attributes)
    client = storefront_client(plan.shop_domain, plan.storefront_token)
    try:
        return client.create_cart(plan.lines, attributes, plan.buyer)
    except ShopifyError as exc:
        log.warning("commerce.checkout.cart_create_failed", error=exc.message)
        raise CheckoutRefused(f"the store refused the checkout: {exc.message}") from None


def _key(lines: list[Line]) -> dict[str, int]:
    return {str(line.variant_id): line.quantity for line in lines}


def _record(cart: Cart, url: str, lines: list[Line]) -> None:
    cart.checkout_url = url
    cart.checkout_lines = _key(lines)
    cart.checked_out_at = datetime.now(UTC)
