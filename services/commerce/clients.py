"""The Shopify client for a store, configured from settings."""

from __future__ import annotations

from channels.shopify.client import ShopifyClient
from settings import get_settings


def shopify_client(shop_domain: str, access_token: str) -> ShopifyClient:
    settings = get_settings()
    return ShopifyClient(
        shop_domain=shop_domain,
        access_token=access_token,
        base_url=settings.shopify_api_base_url,
        version=settings.shopify_api_version,
        timeout=settings.shopify_timeout_seconds,
    )
