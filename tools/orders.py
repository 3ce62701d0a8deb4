"""lookup_order and request_order_change: the customer's own Shopify orders."""

from __future__ import annotations

from typing import Literal

from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, Field

from graph.context import TurnContext
from persistence.db import session_scope
from services.commerce.order_changes import request_order_change as open_change_request
from services.commerce.orders import lookup_order as lookup
from services.errors import DomainError


class LookupArgs(BaseModel):
    order_number: str | None = Field(
        default=None, max_length=50,
        description="The order number the customer gave, such as #1001 or 1001.",
    )  # fmt: skip
    email: str | None = Field(
        default=None, max_length=254,
        description="The email address the customer used for the order, when they gave one.",
    )  # fmt: skip
    code: str | None = Field(
        default=None, max_length=20,
        description="The 6-digit code the customer received by email, only after lookup_order "
        "said a code was sent. Leave empty otherwise.",
    )  # fmt: skip


@tool("lookup_order", args_schema=LookupArgs)
def lookup_order(
    runtime: ToolRuntime[TurnContext],
    order_number: str | None = None,
    email: str | None = None,
    code: str | None = None,
) -> str:
    """Look up the customer's order in the online store: status, items, total, shipping and
    tracking link.

    Use it when the customer asks about an order they placed (where is it, has it shipped,
    what did I order). Give the order number and/or the email they used. Orders are shown
    only to their own customer: when the result says a code was sent, ask the customer for
    the code from their email and call this again with it. Never state order details the
    result does not show, and never hint that an order exists when the result says it
    cannot be found.
    """
    ctx = runtime.context
    try:
        with session_scope() as session:
            found = lookup(
                session, conversation_id=ctx.conversation_id, order_number=order_number,
                email=email, code=code,
            )  # fmt: skip
    except DomainError as exc:
        return f"Error: {exc.message}"
    return found.text


class ChangeArgs(BaseModel):
    order_number: str = Field(max_length=50, description="The order's number, such as #1001.")
    request_type: Literal["cancellation", "return", "address_change"] = Field(
        description="What the customer wants: cancel the order, return items, or change the "
        "delivery address."
    )
    details: str = Field(
        min_length=3, max_length=800,
        description="What exactly they want, in one or two sentences (which items and why, "
        "or the new address), for the support team.",
    )  # fmt: skip


@tool("request_order_change", args_schema=ChangeArgs)
def request_order_change(
    order_number: str, request_type: str, details: str, runtime: ToolRuntime[TurnContext]
) -> str:
    """Pass a request to cancel an order, return items or change the delivery address to a
    colleague, with the order attached.

    Use it only for an order lookup_order has shown to this customer in this conversation.
    You cannot change orders yourself: after calling it, tell the customer that a colleague
    will follow up here; do not promise the outcome or a time.
    """
    ctx = runtime.context
    try:
        with session_scope() as session:
            open_change_request(
                session, conversation_id=ctx.conversation_id, order_number=order_number,
                kind=request_type,  # type: ignore[arg-type]
                details=details, turn_id=ctx.turn_id,
            )  # fmt: skip
    except DomainError as exc:
        return f"Error: {exc.message}"
    return "A colleague has the request, with the order attached, and will follow up in this chat."
