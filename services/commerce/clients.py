"""The Shopify clients for a store, configured from settings."""

from __future__ import annotations

from channels.shopify.client import ShopifyClient
from channels.shopify.storefront import StorefrontClient
from settings import SANDBOX_SHOP_DOMAIN, get_settings


def api_base_url(shop_domain: str) -> str | None:
    """Where a store's APIs answer: the sandbox's demo store in the app itself (only while
    the sandbox is active), else SHOPIFY_API_BASE_URL (unset: the store's own domain)."""
    settings = get_settings()
    if shop_domain == SANDBOX_SHOP_DOMAIN and settings.sandbox_shopify_url:
        return settings.sandbox_shopify_url
    return settings.shopify_api_base_url


def shopify_client(shop_domain: str, access_token: str) -> ShopifyClient:
    settings = get_settings()
    return ShopifyClient(
        shop_domain=shop_domain,
        access_token=access_token,
        base_url=api_base_url(shop_domain),
        version=settings.shopify_api_version,
        timeout=settings.shopify_timeout_seconds,
    )


def storefront_client(shop_domain: str, token: str) -> StorefrontClient:
    settings = get_settings()
    return StorefrontClient(
        shop_domain=shop_domain,
        token=token,
        base_url=api_base_url(shop_domain),
        version=settings.shopify_api_version,
        timeout=settings.shopify_timeout_seconds,
    )
