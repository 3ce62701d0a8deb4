"""add_to_cart, remove_from_cart, view_cart and checkout: the conversation's cart."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, Field

from graph.context import TurnContext
from persistence.db import session_scope
from persistence.models import DeliveryStatus
from services.commerce import cart as carts
from services.commerce.cart import CartView
from services.commerce.checkout import checkout as send_checkout
from services.errors import DomainError

_GONE = {DeliveryStatus.FAILED, DeliveryStatus.DROPPED}


class LineArgs(BaseModel):
    variant_id: str = Field(
        min_length=1, max_length=100,
        description="From search_products (the size/color chosen), never a product_id.",
    )  # fmt: skip
    quantity: int = Field(default=1, ge=1, le=99)


def cart_text(view: CartView) -> str:
    """The cart as the model reads it: lines with prices in the shop's currency, a total."""
    lines: list[dict[str, Any]] = []
    for line in view.lines:
        shown: dict[str, Any] = {
            "variant_id": str(line.variant_id), "product_id": str(line.product_id),
            "title": line.title, "options": line.options, "quantity": line.quantity,
            "price": view.price(line.unit_price), "line_total": view.price(line.total),
        }  # fmt: skip
        if line.problem:
            shown["problem"] = f"{line.problem}: not counted; remove it or change it"
        lines.append(shown)
    result = {"lines": lines, "total": view.price(view.total)} if lines else {"lines": []}
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"))


@tool("add_to_cart", args_schema=LineArgs)
def add_to_cart(variant_id: str, runtime: ToolRuntime[TurnContext], quantity: int = 1) -> str:
    """Add a variant the customer wants to buy to their cart (stock is checked; if it
    fails, tell them why). Returns the cart with prices and total."""
    return _change(carts.add_to_cart, runtime.context, variant_id, quantity)


@tool("remove_from_cart", args_schema=LineArgs)
def remove_from_cart(variant_id: str, runtime: ToolRuntime[TurnContext], quantity: int = 1) -> str:
    """Take `quantity` of a variant out of the customer's cart (all of it if the quantity is
    at least what it has). Returns the cart with prices and total."""
    return _change(carts.remove_from_cart, runtime.context, variant_id, quantity)


def _change(
    change: Callable[..., CartView], ctx: TurnContext, variant_id: str, quantity: int
) -> str:
    try:
        variant = carts.parse_variant_id(variant_id)
        with session_scope() as session:
            view = change(
                session, conversation_id=ctx.conversation_id, merchant_id=ctx.merchant_id,
                variant_id=variant, quantity=quantity,
            )  # fmt: skip
            return cart_text(view)
    except DomainError as exc:
        return f"Error: {exc.message}"


@tool("view_cart")
def view_cart(runtime: ToolRuntime[TurnContext]) -> str:
    """The customer's cart: lines with prices, and the total. Use it before talking about
    the cart."""
    ctx = runtime.context
    try:
        with session_scope() as session:
            view = carts.view_cart(
                session, conversation_id=ctx.conversation_id, merchant_id=ctx.merchant_id
            )
            return cart_text(view)
    except DomainError as exc:
        return f"Error: {exc.message}"


@tool("checkout")
def checkout(runtime: ToolRuntime[TurnContext]) -> str:
    """Send the customer a button to pay for their cart at the online store, once they
    confirmed the cart. Sent at once with its summary: do not repeat the link, items or
    total."""
    ctx = runtime.context
    try:
        sent = send_checkout(
            conversation_id=ctx.conversation_id, turn_id=ctx.turn_id, merchant_id=ctx.merchant_id
        )
    except DomainError as exc:
        return f"Error: {exc.message}"
    if sent.status == DeliveryStatus.DROPPED:
        return "not sent: a human colleague has taken over this conversation."
    if sent.status in _GONE:
        return f"Error: the checkout link could not be sent. Give it in text: {sent.url}"
    how = "a link button" if sent.sent_as == "cta_url" else "a plain link"
    return (
        f"checkout link sent as {how}: {sent.url} (total {sent.cart.price(sent.cart.total)}). "
        "Do not repeat it; add nothing unless you have more to say."
    )
