"""Expiring public links to library files, for providers that fetch media by URL (Twilio's
`MediaUrl`, Instagram's attachment URL) and for a file sent as a link in text.

The link is `{PUBLIC_BASE_URL}/media/signed/{asset_id}/{filename}?expires=<unix>&sig=<hex>`,
the signature an HMAC-SHA256 over the path and the expiry with MEDIA_LINK_SECRET (a key of
its own, never a webhook's secret). Anyone holding the link may fetch the file until it
expires; a changed path, expiry or signature is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from urllib.parse import quote, urlencode

from persistence.models import MediaAsset
from services.errors import Forbidden
from settings import get_settings

PREFIX = "/media/signed"
# long enough for a provider's queue and retries, short enough that a leaked link dies
FETCH_TTL = timedelta(hours=6)
# a file a customer opens themselves (a document on a channel without documents)
READ_TTL = timedelta(days=7)


class LinkRefused(Forbidden):
    """A link we did not sign, or one that has expired."""


def link_path(asset_id: int, filename: str) -> str:
    return f"{PREFIX}/{asset_id}/{quote(filename, safe='')}"


def _signature(path: str, expires: int) -> str | None:
    secret = get_settings().media_link_secret
    if secret is None:
        return None
    message = f"expiring-link\n{path}\n{expires}".encode()
    return hmac.new(secret.get_secret_value().encode(), message, hashlib.sha256).hexdigest()


def public_base_url() -> str | None:
    settings = get_settings()
    return settings.public_base_url or settings.media_link_base_url


def expiring_link(asset: MediaAsset, *, ttl: timedelta = FETCH_TTL) -> str | None:
    """A public URL of the file valid for `ttl`; None when PUBLIC_BASE_URL (or
    MEDIA_LINK_BASE_URL) or MEDIA_LINK_SECRET is not set."""
    base = public_base_url()
    path = link_path(asset.id, asset.filename)
    expires = int(time.time() + ttl.total_seconds())
    sig = _signature(path, expires)
    if not base or sig is None:
        return None
    return f"{base.rstrip('/')}{path}?{urlencode({'expires': expires, 'sig': sig})}"


def check_expiring_link(asset_id: int, filename: str, expires: int, sig: str) -> None:
    """Raises LinkRefused unless the link was signed by us for this path and is unexpired."""
    expected = _signature(link_path(asset_id, filename), expires)
    if expected is None or not hmac.compare_digest(expected.encode(), sig.encode()):
        raise LinkRefused("invalid link signature")
    if expires < time.time():
        raise LinkRefused("this link has expired")
