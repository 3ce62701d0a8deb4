"""The tools the model sees. Names and arguments are a contract (see DESIGN.md).

| tool                    | role     |
| search_knowledge_base   | customer |
| respond_with_media      | customer |
| request_intervention    | customer |
| request_notification    | customer |
| reply_with_options      | customer |
| search_products         | customer |
| send_products           | customer |
| lookup_order            | customer |
| request_order_change    | customer |
| add_to_cart             | customer |
| remove_from_cart        | customer |
| view_cart               | customer |
| checkout                | customer |
| answer_notification     | admin    |

Each role has its own list and its own tool node (graph.builder): a customer's model is
never offered an admin tool, and cannot run one even if it names it. A customer's model is
not offered what the merchant lacks (every chat request carries the declarations): the
commerce tools without a connected store, respond_with_media with an empty library; the
tool node keeps them all.
"""

from collections.abc import Sequence

from langchain_core.tools import BaseTool

from graph.context import Role
from tools.cart import add_to_cart, checkout, remove_from_cart, view_cart
from tools.intervention import request_intervention
from tools.knowledge import search_knowledge_base
from tools.media import respond_with_media
from tools.notifications import answer_notification, request_notification
from tools.options import reply_with_options
from tools.orders import lookup_order, request_order_change
from tools.products import search_products, send_products


def _compact(*tools: BaseTool) -> tuple[BaseTool, ...]:
    """The tools with their docstrings on one line: the description goes with every chat
    request, and a docstring's line breaks and indentation are tokens that say nothing."""
    for each in tools:
        each.description = " ".join(each.description.split())
    return tools


_CUSTOMER_TOOLS = _compact(
    search_knowledge_base,
    respond_with_media,
    request_intervention,
    request_notification,
    reply_with_options,
    search_products,
    send_products,
    lookup_order,
    request_order_change,
    add_to_cart,
    remove_from_cart,
    view_cart,
    checkout,
)
_ADMIN_TOOLS = _compact(answer_notification)

CUSTOMER_TOOL_NAMES = tuple(t.name for t in _CUSTOMER_TOOLS)
ADMIN_TOOL_NAMES = tuple(t.name for t in _ADMIN_TOOLS)
COMMERCE_TOOL_NAMES = frozenset(
    t.name
    for t in (search_products, send_products, lookup_order, request_order_change)
    + (add_to_cart, remove_from_cart, view_cart, checkout)
)


def tools_for(role: Role, *, commerce: bool = True, media: bool = True) -> Sequence[BaseTool]:
    """The role's tools; for a customer without a store (`commerce`) or without media files
    (`media`), those the turn could not use left out."""
    if role == "admin":
        return _ADMIN_TOOLS
    return tuple(
        t
        for t in _CUSTOMER_TOOLS
        if (commerce or t.name not in COMMERCE_TOOL_NAMES)
        and (media or t is not respond_with_media)
    )
