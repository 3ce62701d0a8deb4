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
        description="e.g. #1001",
    )  # fmt: skip
    email: str | None = Field(
        default=None, max_length=254,
        description="The email used for the order.",
    )  # fmt: skip
    code: str | None = Field(
        default=None, max_length=20,
        description="The emailed code, only after lookup_order said one was sent.",
    )  # fmt: skip


@tool("lookup_order", args_schema=LookupArgs)
def lookup_order(
    runtime: ToolRuntime[TurnContext],
    order_number: str | None = None,
    email: str | None = None,
    code: str | None = None,
) -> str:
    """The customer's own order at the online store (status, items, total, shipping,
    tracking), by order number and/or email. When the result says a code was sent, ask
    for it and call again with it. Never hint that an order exists when it is not found.
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
    order_number: str = Field(max_length=50)
    request_type: Literal["cancellation", "return", "address_change"]
    details: str = Field(
        min_length=3, max_length=800,
        description="Which items and why, or the new address, for the team.",
    )  # fmt: skip


@tool("request_order_change", args_schema=ChangeArgs)
def request_order_change(
    order_number: str, request_type: str, details: str, runtime: ToolRuntime[TurnContext]
) -> str:
    """Pass a cancellation, return or address change of an order lookup_order showed
    this customer to a colleague. Then say a colleague will follow up here, promising no
    outcome or time.
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
