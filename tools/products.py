"""search_products and send_products: the merchant's synced Shopify catalog."""

from __future__ import annotations

from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, Field

from graph.context import TurnContext
from persistence.db import session_scope
from persistence.models import DeliveryStatus
from services.commerce.present import find_products, product_query, to_text
from services.commerce.showcase import parse_ids, show_products
from services.errors import DomainError

_GONE = {DeliveryStatus.FAILED, DeliveryStatus.DROPPED}


class SearchArgs(BaseModel):
    query: str = Field(
        min_length=1, max_length=300,
        description="The kind of product and its features, e.g. running shoes; size, color "
        "and budget go in the other arguments.",
    )  # fmt: skip
    max_price: float | None = Field(
        default=None, description="The customer's budget, in the shop's currency.",
    )  # fmt: skip
    in_stock_only: bool = Field(
        default=True, description="False only when they ask about availability or something "
        "sold out.",
    )  # fmt: skip
    options: dict[str, str] | None = Field(
        default=None, description='Variant options they asked for, e.g. {"size": "42"}.',
    )  # fmt: skip


@tool("search_products", args_schema=SearchArgs)
def search_products(
    query: str,
    runtime: ToolRuntime[TurnContext],
    max_price: float | None = None,
    in_stock_only: bool = True,
    options: dict[str, str] | None = None,
) -> str:
    """Search the online store's catalog for a product, its price, sizes, colors or stock.
    Returns a few matches as JSON with product and variant ids, price and stock. If nothing
    matches, say so and offer another search; never invent a product.
    """
    try:
        parsed = product_query(
            query=query, max_price=max_price, in_stock_only=in_stock_only, options=options
        )
    except DomainError as exc:
        return f"Error: {exc.message}"
    with session_scope() as session:
        return to_text(find_products(session, runtime.context.merchant_id, parsed))


class SendArgs(BaseModel):
    product_ids: list[str] = Field(
        min_length=1, max_length=10,
        description="product_ids from search_products, best first.",
    )  # fmt: skip
    text: str = Field(
        default="", max_length=500,
        description="A short line shown with them, in the customer's language.",
    )  # fmt: skip


@tool("send_products", args_schema=SendArgs)
def send_products(product_ids: list[str], runtime: ToolRuntime[TurnContext], text: str = "") -> str:
    """Show products found with search_products to the customer (photo, title, price and
    link each). Sent at once: then reply briefly, without repeating titles and prices.
    """
    ctx = runtime.context
    try:
        ids = parse_ids(product_ids)
        shown = show_products(
            conversation_id=ctx.conversation_id, turn_id=ctx.turn_id,
            merchant_id=ctx.merchant_id, product_ids=ids, text=text,
        )  # fmt: skip
    except DomainError as exc:
        return f"Error: {exc.message}"
    sent = [s.product_id for s in shown if s.status not in _GONE]
    failed = [s.product_id for s in shown if s.status in _GONE]
    if not sent:
        return f"Error: could not show products {', '.join(failed)}. Describe them in text."
    how = {"catalog": "catalog product cards", "cards": "product cards"}.get(
        shown[0].sent_as, "photos"
    )
    result = f"shown to the customer as {how}: {', '.join(sent)}"
    return result + (f"; could not show {', '.join(failed)}" if failed else "")
