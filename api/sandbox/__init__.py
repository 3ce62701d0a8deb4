"""The WhatsApp sandbox at /sandbox: a chat page for playing customers or the merchant's
admin, a fake Graph API at /sandbox/graph that the workers send through, and a demo
Shopify store at /sandbox/shopify connected to the sandbox merchant.

It exists only when SANDBOX_ENABLED is set AND WHATSAPP_API_BASE_URL points at the fake
(settings.sandbox_active), and nothing says this is a real deployment (external database or
Redis, a real WhatsApp token, HOST not loopback). Otherwise it stays off, loudly: a
production deployment cannot grow a page that fakes customers by a stray variable.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

from api.sandbox import chat, graph, providers, shopify
from settings import SANDBOX_GRAPH_PATH, get_settings, is_sandbox_graph_url

log = logging.getLogger(__name__)


def install(app: FastAPI) -> bool:
    """Add the sandbox's routes when it may run; True when it does."""
    settings = get_settings()
    if settings.sandbox_enabled and not is_sandbox_graph_url(settings.whatsapp_api_base_url):
        log.warning(
            "sandbox.refused SANDBOX_ENABLED is set but WHATSAPP_API_BASE_URL=%s is not the "
            "sandbox's own fake Graph API (http://127.0.0.1:<port>%s): the sandbox stays off",
            settings.whatsapp_api_base_url,
            SANDBOX_GRAPH_PATH,
        )
        return False
    if settings.sandbox_enabled and settings.sandbox_refusals:
        log.warning(
            "sandbox.refused SANDBOX_ENABLED is set but this is a real deployment (%s): "
            "the sandbox stays off",
            "; ".join(settings.sandbox_refusals),
        )
        return False
    if not settings.sandbox_active:
        return False
    app.include_router(graph.router)
    app.include_router(chat.router)
    app.include_router(shopify.router)
    app.include_router(providers.router)
    log.warning(
        "sandbox.enabled every WhatsApp send goes to the fake Graph API at %s; "
        "never run this against real customers",
        settings.whatsapp_api_base_url,
    )
    return True
