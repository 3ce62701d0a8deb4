"""Checkout links at a merchant's Shopify store.

With a Storefront API token: `cartCreate` on `POST {root}/api/{version}/graphql.json`
(header `X-Shopify-Storefront-Access-Token`), whose cart has a `checkoutUrl`. Without one:
a cart permalink `https://{shop}/cart/{variant_id}:{qty},...`, which Shopify turns into a
cart and sends to checkout. Either way the cart carries our attributes (the conversation
id), so the order that comes back can be matched to the conversation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from channels.shopify.client import ShopifyAuthError, ShopifyError

CART_CREATE = """
mutation cartCreate($input: CartInput!) {
  cartCreate(input: $input) {
    cart { id checkoutUrl }
    userErrors { field message code }
  }
}
"""


@dataclass(frozen=True)
class BuyerIdentity:
    """Who checks out, so Shopify's checkout comes prefilled: `phone` in E.164 ("+34600..."),
    `country_code` ISO 3166-1 alpha-2 ("ES") when known."""

    phone: str | None = None
    country_code: str | None = None

    def as_input(self) -> dict[str, str]:
        fields = {"phone": self.phone, "countryCode": self.country_code}
        return {key: value for key, value in fields.items() if value}


@dataclass(frozen=True)
class Line:
    variant_id: int  # Shopify's numeric ProductVariant id
    quantity: int


def cart_permalink(shop_domain: str, lines: Sequence[Line], attributes: Mapping[str, str]) -> str:
    """`https://{shop}/cart/{variant}:{qty},...?attributes[key]=value`."""
    items = ",".join(f"{line.variant_id}:{line.quantity}" for line in lines)
    query = "&".join(
        f"attributes[{quote(key, safe='')}]={quote(value, safe='')}"
        for key, value in attributes.items()
    )
    return f"https://{shop_domain}/cart/{items}" + (f"?{query}" if query else "")


class StorefrontClient:
    def __init__(
        self, *, shop_domain: str, token: str, base_url: str | None, version: str,
        timeout: float = 20.0,
    ) -> None:  # fmt: skip
        root = (base_url or f"https://{shop_domain}").rstrip("/")
        self.endpoint = f"{root}/api/{version}/graphql.json"
        self._token = token
        self._timeout = timeout

    def create_cart(
        self, lines: Sequence[Line], attributes: Mapping[str, str],
        buyer: BuyerIdentity | None = None,
    ) -> str:  # fmt: skip
        """The new cart's checkout URL; Shopify's userErrors become a ShopifyError. A buyer
        identity Shopify refuses (its userErrors name `buyerIdentity`) is left out and the
        cart made without it: a checkout that is not prefilled beats none."""
        identity = buyer.as_input() if buyer else {}
        try:
            return self._create_cart(lines, attributes, identity)
        except BuyerIdentityRefused:
            return self._create_cart(lines, attributes, {})

    def _create_cart(
        self, lines: Sequence[Line], attributes: Mapping[str, str], identity: dict[str, str]
    ) -> str:
        cart_input: dict[str, object] = {
            "lines": [
                {"merchandiseId": f"gid://shopify/ProductVariant/{line.variant_id}",
                 "quantity": line.quantity}
                for line in lines
            ],
            "attributes": [{"key": k, "value": v} for k, v in attributes.items()],
        }  # fmt: skip
        if identity:
            cart_input["buyerIdentity"] = identity
        try:
            body = self._post({"query": CART_CREATE, "variables": {"input": cart_input}})
        except ShopifyError as exc:  # a countryCode outside Shopify's enum fails the request
            if identity and "buyerIdentity" in exc.message:
                raise BuyerIdentityRefused(exc.message) from None
            raise
        data = body.get("data")
        result = (data.get("cartCreate") if isinstance(data, dict) else None) or {}
        errors = result.get("userErrors") or []
        if errors:
            message = "; ".join(str(e.get("message")) for e in errors)
            if identity and all("buyerIdentity" in (e.get("field") or []) for e in errors):
                raise BuyerIdentityRefused(message)
            raise ShopifyError(message)
        checkout_url = (result.get("cart") or {}).get("checkoutUrl")
        if not isinstance(checkout_url, str) or not checkout_url.startswith("https://"):
            raise ShopifyError("Shopify's cartCreate answered without a checkout URL")
        return checkout_url

    def _post(self, payload: dict[str, object]) -> dict[str, object]:
        headers = {"X-Shopify-Storefront-Access-Token": self._token}
        try:
            response = httpx.post(
                self.endpoint, json=payload, headers=headers, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise ShopifyError(f"cannot reach Shopify: {type(exc).__name__}") from None
        if response.status_code in (401, 403):
            raise ShopifyAuthError(_reason(response), status=response.status_code)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            raise ShopifyError(_reason(response), status=response.status_code)
        if body.get("errors"):
            raise ShopifyError(_messages(body["errors"]))
        return body


class BuyerIdentityRefused(ShopifyError):
    """cartCreate refused only the buyer identity (a phone or country Shopify does not
    accept)."""


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and body.get("errors"):
        return f"HTTP {response.status_code}: {_messages(body['errors'])}"
    return f"HTTP {response.status_code}"


def _messages(errors: object) -> str:
    if isinstance(errors, list):
        texts = [
            str(e.get("message") or (e.get("extensions") or {}).get("code") or e)
            if isinstance(e, dict) else str(e)
            for e in errors
        ]  # fmt: skip
        return "; ".join(texts)
    return str(errors)
