"""The fake store's Storefront API: `cartCreate`, as Shopify answers it.

`POST /api/{version}/graphql.json` with `X-Shopify-Storefront-Access-Token` (401 with
Shopify's `UNAUTHORIZED` errors otherwise). Lines naming an unknown variant or a quantity
below 1 are refused with `userErrors` (`field`, `message`, `code`) and no cart; a quantity
above the stock is kept at the stock with a `MERCHANDISE_NOT_ENOUGH_STOCK` warning. A
`buyerIdentity` is checked as Shopify checks it: a phone that is not a valid E.164 number is
a userError on `["input", "buyerIdentity", "phone"]` (no cart), a countryCode that is not
one of the CountryCode enum's values fails the whole request with INVALID_VARIABLE. Each
cart made is kept in `carts` (lines, attributes, buyerIdentity, checkoutUrl) for tests.
"""

from __future__ import annotations

import re
import secrets
import threading
from typing import Any, Protocol

import phonenumbers

from channels.simulators.http import Request, Response

JSON = dict[str, Any]
PATH = re.compile(r"^/api/(?P<version>[^/]+)/graphql\.json$")
_VARIANT = re.compile(r"^gid://shopify/ProductVariant/(\d+)$")


class ShopifySimulator(Protocol):
    """What the Storefront API reads of the fake store (channels.simulators.shopify)."""

    shop_domain: str
    storefront_token: str | None
    lock: threading.RLock
    requests: list[JSON]
    carts: list[JSON]

    def variant(self, variant_id: int) -> tuple[Any, Any]: ...


def storefront(sim: ShopifySimulator, request: Request) -> Response:
    if request.method != "POST":
        return Response.json({"errors": "Not Found"}, status=404)
    token = request.headers.get("x-shopify-storefront-access-token")
    if not sim.storefront_token or token != sim.storefront_token:
        return Response.json(
            {"errors": [{"message": "", "extensions": {"code": "UNAUTHORIZED"}}]}, status=401
        )
    body = request.json()
    query = body.get("query") if isinstance(body, dict) else None
    if not isinstance(query, str) or "cartCreate" not in query:
        return Response.json({"errors": [{"message": "the simulator knows only cartCreate",
                                          "extensions": {"code": "BAD_REQUEST"}}]})  # fmt: skip
    cart_input = (body.get("variables") or {}).get("input") or {}
    country = (cart_input.get("buyerIdentity") or {}).get("countryCode")
    if country is not None and country not in phonenumbers.SUPPORTED_REGIONS:
        return Response.json({"errors": [{
            "message": "Variable $input of type CartInput! was provided invalid value for "
                       f"buyerIdentity.countryCode (Expected \"{country}\" to be one of: "
                       "AC, AD, AE, ...)",
            "extensions": {"code": "INVALID_VARIABLE"},
        }]})  # fmt: skip
    with sim.lock:
        sim.requests.append(body)
        return Response.json({"data": {"cartCreate": _create(sim, cart_input)}})


def _create(sim: ShopifySimulator, cart_input: JSON) -> JSON:
    errors: list[JSON] = []
    warnings: list[JSON] = []
    lines: list[JSON] = []
    for n, line in enumerate(cart_input.get("lines") or []):
        field = ["input", "lines", str(n)]
        merchandise = str(line.get("merchandiseId", ""))
        quantity = int(line.get("quantity", 1))
        found = _variant(sim, merchandise)
        if found is None:
            errors.append(
                {
                    "field": [*field, "merchandiseId"],
                    "code": "INVALID",
                    "message": f"The merchandise with id {merchandise} does not exist.",
                }
            )
            continue  # fmt: skip
        if quantity < 1:
            errors.append({"field": [*field, "quantity"], "code": "INVALID",
                           "message": "The quantity must be greater than 0."})  # fmt: skip
            continue
        stock = found.quantity
        if stock is not None and quantity > stock:
            warnings.append(
                {
                    "code": "MERCHANDISE_NOT_ENOUGH_STOCK",
                    "target": merchandise,
                    "message": f"Only {stock} items were added to the cart.",
                }
            )
            quantity = stock  # fmt: skip
        lines.append({"merchandiseId": merchandise, "variant_id": found.id, "quantity": quantity})
    errors.extend(_buyer_errors(cart_input.get("buyerIdentity")))
    if errors:
        return {"cart": None, "userErrors": errors, "warnings": []}
    token = "hWN" + secrets.token_hex(12)
    key = secrets.token_hex(16)
    cart = {
        "id": f"gid://shopify/Cart/{token}?key={key}",
        "checkoutUrl": f"https://{sim.shop_domain}/cart/c/{token}?key={key}",
    }
    sim.carts.append(
        {
            **cart,
            "lines": lines,
            "attributes": {
                str(a.get("key")): str(a.get("value")) for a in cart_input.get("attributes") or []
            },
            "buyerIdentity": dict(cart_input.get("buyerIdentity") or {}),
        }
    )
    return {"cart": cart, "userErrors": [], "warnings": warnings}  # fmt: skip


def _variant(sim: ShopifySimulator, merchandise: str) -> Any:
    match = _VARIANT.match(merchandise)
    if match is None:
        return None
    try:
        return sim.variant(int(match.group(1)))[1]
    except KeyError:
        return None


def _buyer_errors(identity: JSON | None) -> list[JSON]:
    phone = (identity or {}).get("phone")
    if phone is None:
        return []
    try:
        valid = str(phone).startswith("+") and phonenumbers.is_valid_number(
            phonenumbers.parse(str(phone), None)
        )
    except phonenumbers.NumberParseException:
        valid = False
    if valid:
        return []
    return [{"field": ["input", "buyerIdentity", "phone"], "code": "INVALID",
             "message": "Phone is invalid"}]  # fmt: skip
