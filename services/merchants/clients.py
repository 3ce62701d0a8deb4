"""One provider client per channel account, sharing one HTTP connection pool per process.

`channel_for` picks the provider by the account's type (a WhatsApp Cloud number or a
Twilio WhatsApp sender); `client_for` is the WhatsApp Cloud client, for what only the Cloud
API does (uploads, templates, business profile)."""

from __future__ import annotations

import threading

import httpx

from channels.base import Channel
from channels.instagram.channel import InstagramChannel
from channels.twilio.client import TwilioChannel
from channels.whatsapp import WhatsAppClient
from persistence.models import ChannelType, PhoneNumber
from settings import (
    SANDBOX_INSTAGRAM_PATH,
    SANDBOX_TOKEN_PREFIX,
    SANDBOX_TWILIO_PATH,
    get_settings,
)

_lock = threading.Lock()
_http: httpx.Client | None = None


def _shared_http() -> httpx.Client:
    global _http
    with _lock:
        if _http is None:
            settings = get_settings()
            _http = httpx.Client(timeout=settings.whatsapp_timeout_seconds)
        return _http


def client_for(phone: PhoneNumber) -> WhatsAppClient:
    """The channel that speaks for this account (an `InstagramChannel` for Instagram)."""
    settings = get_settings()
    instagram = phone.type == ChannelType.INSTAGRAM
    cls = InstagramChannel if instagram else WhatsAppClient
    api_root = settings.instagram_api_root if instagram else settings.whatsapp_api_root
    sandbox = _sandbox_url(phone, SANDBOX_INSTAGRAM_PATH) if instagram else None
    return cls(
        api_root=f"{sandbox}/{settings.instagram_api_version}" if sandbox else api_root,
        access_token=phone.access_token,
        phone_number_id=phone.phone_number_id,
        timeout=settings.whatsapp_timeout_seconds,
        http=_shared_http(),
        media_hosts=settings.media_download_hosts,
    )


def channel_for(phone: PhoneNumber) -> Channel:
    """The channel that sends for this account."""
    if phone.type == ChannelType.TWILIO_WHATSAPP:
        return twilio_for(phone)
    return client_for(phone)


def twilio_for(phone: PhoneNumber) -> TwilioChannel:
    settings = get_settings()
    base = settings.public_base_url
    return TwilioChannel(
        api_base_url=_sandbox_url(phone, SANDBOX_TWILIO_PATH) or settings.twilio_api_base_url,
        account_sid=phone.account_sid or "",
        auth_token=phone.auth_token,
        sender=phone.phone_number_id,
        http=_shared_http(),
        content_sids=phone.content_sids,
        status_callback=f"{base.rstrip('/')}/webhooks/twilio/status" if base else None,
    )


def _sandbox_url(phone: PhoneNumber, path: str) -> str | None:
    """The sandbox's own Twilio and Instagram accounts (secrets with the sandbox prefix)
    send to its fakes inside this server while it runs, never to the providers."""
    if not phone.access_token.startswith(SANDBOX_TOKEN_PREFIX):
        return None
    return get_settings().sandbox_url(path)


def media_client_for(phone: PhoneNumber) -> WhatsAppClient | TwilioChannel:
    """Who downloads an inbound message's media (Twilio: its MediaUrl with basic auth)."""
    return twilio_for(phone) if phone.type == ChannelType.TWILIO_WHATSAPP else client_for(phone)


def reset() -> None:
    """Drop the pool (after fork: a child must not reuse its parent's sockets)."""
    global _http
    with _lock:
        _http = None
