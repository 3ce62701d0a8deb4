"""One WhatsApp client per business number, sharing one HTTP connection pool per process."""

from __future__ import annotations

import threading

import httpx

from channels.instagram.channel import InstagramChannel
from channels.whatsapp import WhatsAppClient
from persistence.models import ChannelType, PhoneNumber
from settings import get_settings

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
    return cls(
        api_root=settings.instagram_api_root if instagram else settings.whatsapp_api_root,
        access_token=phone.access_token,
        phone_number_id=phone.phone_number_id,
        timeout=settings.whatsapp_timeout_seconds,
        http=_shared_http(),
        media_hosts=settings.media_download_hosts,
    )


def reset() -> None:
    """Drop the pool (after fork: a child must not reuse its parent's sockets)."""
    global _http
    with _lock:
        _http = None
