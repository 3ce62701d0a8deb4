"""A conversation's cart, for operators: what is in it, and a checkout link sent to the
customer as a call-to-action button (plain link on channels without one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from api.deps import PrincipalDep, SessionDep
from api.schemas import MessageRead
from persistence.models import Message
from services.commerce.cart import CartView, cart_of_conversation
from services.commerce.checkout import operator_checkout
from services.commerce.errors import StoreNotConnected
from services.conversations.conversation import get_conversation
from services.errors import NotFound
from services.handoff.handoff import ConversationRef

router = APIRouter(prefix="/api/v1", tags=["commerce"])
ConversationId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class CartLineRead(BaseModel):
    variant_id: str
    product_id: str
    title: str
    options: dict[str, str]
    quantity: int
    unit_price: str
    line_total: str
    problem: str | None


class CartRead(BaseModel):
    lines: list[CartLineRead]
    total: str
    currency: str
    checkout_url: str | None


class CheckoutLinkRead(BaseModel):
    url: str
    cart: CartRead
    message: MessageRead


def cart_read(view: CartView) -> CartRead:
    lines = [
        CartLineRead(
            variant_id=str(line.variant_id),
            product_id=str(line.product_id),
            title=line.title,
            options=line.options,
            quantity=line.quantity,
            unit_price=view.price(line.unit_price),
            line_total=view.price(line.total),
            problem=line.problem,
        )  # fmt: skip
        for line in view.lines
    ]
    return CartRead(lines=lines, total=view.price(view.total), currency=view.currency,
                    checkout_url=view.checkout_url)  # fmt: skip


@router.get("/conversations/{conversation_id}/cart", responses={404: {}})
def get_cart(
    conversation_id: ConversationId, session: SessionDep, principal: PrincipalDep
) -> CartRead:
    """The conversation's cart, priced from the synced catalog (lines that cannot be bought
    now carry a `problem` and are not counted in the total). 404 without a store."""
    get_conversation(session, conversation_id, merchant_id=principal.merchant_id)
    view = cart_of_conversation(session, conversation_id)
    if view is None:
        raise StoreNotConnected("this business has no online store connected")
    return cart_read(view)


@router.post(
    "/conversations/{conversation_id}/checkout-link",
    responses={404: {}, 409: {}, 422: {}, 502: {}},
)
def send_checkout_link(
    conversation_id: ConversationId, session: SessionDep, principal: PrincipalDep
) -> CheckoutLinkRead:
    """Send the conversation's cart to the customer as a checkout link at the store (a
        WhatsApp call-to-action URL button; a plain link on other channels), as the operator.
        The conversation must be taken over first (409 otherwise); an empty cart or one with
        items that cannot be bought now is refused (404, 422) with the reason. Outside the
        customer's window the message is parked like any operator text (its status `parked`) and
    the customer gets the re-engagement template; it follows when they write."""
    ref = ConversationRef(conversation_id, merchant_id=principal.merchant_id)
    sent = operator_checkout(ref, principal)
    message = session.get(Message, sent.message_id)
    if message is None:  # its conversation was deleted meanwhile
        raise NotFound(f"message {sent.message_id} no longer exists")
    return CheckoutLinkRead(url=sent.url, cart=cart_read(sent.cart),
                            message=MessageRead.model_validate(message))  # fmt: skip
