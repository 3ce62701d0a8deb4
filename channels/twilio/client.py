"""A `channels.base.Channel` for one Twilio WhatsApp sender: the Messages API
(`{base}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded, basic auth).

Twilio carries text, media by URL (`MediaUrl`, fetched by Twilio: our signed links) and
templates through the Content API (`ContentSid` + `ContentVariables`); it has no typing
indicator or read receipts we can send, and our interactive lists and buttons go as
numbered text (`capabilities.interactive` is False). Errors are Twilio's JSON
`{"code", "message", "more_info", "status"}`, mapped to `channels.errors` classes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from channels.base import (
    Capabilities,
    OutboundInteractive,
    OutboundMedia,
    OutboundMessage,
    OutboundProducts,
    OutboundTemplate,
    OutboundText,
    Recipient,
)
from channels.errors import (
    DeliveryOutcomeUnknown,
    InvalidRequest,
    MediaHostRefused,
    MediaTooLarge,
    TransientError,
    WhatsAppError,
    _class_for,
)
from channels.whatsapp import MediaInfo, media_url_allowed
from observability.logs import get_logger

log = get_logger(__name__)

CAPABILITIES = Capabilities(
    interactive=False,
    templates=True,
    typing_indicator=False,
    max_text_chars=1600,  # Twilio's limit for a WhatsApp body
    media_kinds=frozenset({"image", "video", "audio", "document"}),
    service_window=timedelta(hours=24),
)
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Where Twilio keeps customers' files: MediaUrlN is on api.twilio.com (it redirects to its
# CDN, without our credentials: httpx drops them across origins)
TWILIO_MEDIA_HOSTS = ("api.twilio.com", "*.twiliocdn.com")


def media_hosts_for(api_base_url: str) -> tuple[str, ...]:
    """Twilio's media hosts plus the configured API's own origin (a simulator in tests)."""
    parts = urlsplit(api_base_url)
    return (*TWILIO_MEDIA_HOSTS, f"{parts.scheme}://{parts.netloc}")


def whatsapp_address(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


class TwilioChannel:
    capabilities = CAPABILITIES

    def __init__(
        self,
        *,
        api_base_url: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        http: httpx.Client,
        content_sids: dict[str, Any] | None = None,
        status_callback: str | None = None,
        media_hosts: Sequence[str] | None = None,
    ) -> None:
        self._url = f"{api_base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._auth = (account_sid, auth_token)
        self._sender = sender
        self._http = http
        self._content_sids = content_sids or {}
        self._status_callback = status_callback
        self._media_hosts = tuple(media_hosts or media_hosts_for(api_base_url))

    def send_message(
        self, recipient: Recipient, message: OutboundMessage, *, callback_data: str | None = None
    ) -> str:
        """Send and return Twilio's message sid (SM...); `callback_data` has no Twilio
        equivalent: statuses come back by sid."""
        if not recipient.wa_id:
            raise InvalidRequest("Twilio reaches a customer by phone number only")
        form = {"To": whatsapp_address(f"+{recipient.wa_id.lstrip('+')}"),
                "From": whatsapp_address(self._sender), **self._content(message)}  # fmt: skip
        if self._status_callback:
            form["StatusCallback"] = self._status_callback
        return self._post(form)

    def refusal(self, message: OutboundMessage) -> str | None:
        return None

    def mark_read(self, message_id: str, *, typing: bool = True) -> None:
        """Twilio sends no read receipts or typing indicators for us: nothing to do."""

    def _content(self, message: OutboundMessage) -> dict[str, str]:
        if isinstance(message, OutboundText):
            return {"Body": message.text[: CAPABILITIES.max_text_chars]}
        if isinstance(message, OutboundMedia):
            if not message.link:
                raise InvalidRequest("Twilio fetches media by URL: a link is needed")
            return {
                "MediaUrl": message.link,
                **({"Body": message.caption} if message.caption else {}),
            }
        if isinstance(message, OutboundTemplate):
            return self._template(message)
        if isinstance(message, OutboundInteractive):
            return {"Body": message.body}
        if isinstance(message, OutboundProducts):
            return {"Body": message.body or ", ".join(message.retailer_ids)}
        raise InvalidRequest(f"Twilio cannot send {type(message).__name__}")

    def _template(self, template: OutboundTemplate) -> dict[str, str]:
        sid = self._content_sids.get(template.name)
        if not sid:
            raise InvalidRequest(
                f"no Twilio ContentSid for template {template.name}: "
                "set content_sids on the channel"
            )
        variables = {str(n): v for n, v in enumerate(template.parameters, start=1)}
        return {"ContentSid": str(sid), "ContentVariables": json.dumps(variables)}

    def _post(self, form: dict[str, str]) -> str:
        try:
            response = self._http.post(self._url, data=form, auth=self._auth)
        except _NOT_SENT as exc:
            raise TransientError(f"Twilio unreachable: {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise DeliveryOutcomeUnknown(
                f"Twilio send outcome unknown: {type(exc).__name__}"
            ) from None
        if response.status_code >= 300:
            raise error_from_twilio(response)
        try:
            sid = response.json()["sid"]
        except (ValueError, KeyError, TypeError):
            raise DeliveryOutcomeUnknown("Twilio accepted the send without a sid") from None
        log.info("twilio.send.accepted", sid=sid)
        return str(sid)

    def media_info(self, media_id: str) -> MediaInfo:
        """A Twilio media id is its URL (MediaUrlN): downloaded as is, with basic auth."""
        return MediaInfo(url=media_id, mime_type="", sha256="", file_size=None, id=media_id)

    def download(self, url: str, *, max_bytes: int) -> bytes:
        """The file behind a MediaUrl, with basic auth: so only from Twilio's media hosts
        (and the configured API's); any other URL raises MediaHostRefused, unrequested."""
        if not media_url_allowed(url, self._media_hosts):
            parts = urlsplit(url)
            log.warning("twilio.media_download.refused_host", host=parts.hostname)
            raise MediaHostRefused(
                f"media URL on {parts.scheme}://{parts.hostname} is not an allowed media host"
            )
        try:
            response = self._http.get(url, auth=self._auth, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise TransientError(f"Twilio media unreachable: {type(exc).__name__}") from None
        if response.status_code >= 300:
            raise error_from_twilio(response)
        if len(response.content) > max_bytes:
            raise MediaTooLarge("media too large", size=len(response.content), limit=max_bytes)
        return response.content

    def close(self) -> None:
        """The HTTP pool is shared (services.merchants.clients)."""


def error_from_twilio(response: httpx.Response) -> WhatsAppError:
    """Twilio's error JSON as our typed errors (63016: outside the window, 20003: auth)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = body.get("code") if isinstance(body, dict) else None
    code = code if isinstance(code, int) else None
    message = (
        str(body.get("message") if isinstance(body, dict) else "") or f"HTTP {response.status_code}"
    )
    return _class_for(code, response.status_code)(
        message, code=code, http_status=response.status_code,
        details=body.get("more_info") if isinstance(body, dict) else None,
    )  # fmt: skip
