"""The Instagram Direct channel: one professional account's Send API client.

It reuses the WhatsApp client's transport (bearer token, retries on 429/5xx, unknown
outcomes never resent, token redaction) and only speaks Instagram's shapes: sends to
`/{version}/{instagram_account_id}/messages`, media by URL, quick replies, generic
templates. Inbound files arrive as CDN URLs rather than media ids, so `media_info` answers
the URL itself and the shared media pipeline downloads it like WhatsApp media.
"""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import quote, urlsplit

from channels.base import OutboundMessage, Recipient
from channels.errors import DeliveryOutcomeUnknown, InvalidRequest, WhatsAppError
from channels.instagram.errors import instagram_error
from channels.instagram.messages import (
    CAPABILITIES,
    message_object,
    refusal,
    send_body,
)
from channels.whatsapp import MediaInfo, WhatsAppClient


class InstagramChannel(WhatsAppClient):
    """A `channels.base.Channel` for one Instagram professional account. `human_agent`:
    messages go out with the HUMAN_AGENT tag (a person answering for up to 7 days)."""

    capabilities = CAPABILITIES

    def __init__(self, *, human_agent: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.human_agent = human_agent
        self._init_kwargs = kwargs

    def __repr__(self) -> str:  # never show the token
        return f"InstagramChannel(instagram_account_id={self._phone_number_id!r})"

    def as_human_agent(self) -> InstagramChannel:
        """The same account, sending with MESSAGE_TAG HUMAN_AGENT."""
        return InstagramChannel(human_agent=True, **self._init_kwargs)

    def send_message(
        self, recipient: Recipient, message: OutboundMessage, *, callback_data: str | None = None
    ) -> str:
        """Send and return Instagram's message id (`mid`). Instagram has no callback data:
        its echo and read webhooks name the mid."""
        reason = refusal(message)
        if reason is not None:
            raise InvalidRequest(f"Instagram cannot send this message: {reason}")
        body = send_body(recipient, message_object(message), human_agent=self.human_agent)
        return self._send(body)

    def user_profile(self, igsid: str) -> dict[str, str]:
        """A customer's `name` and `username` (User Profile API), as far as Instagram tells."""
        url = f"{self._api_root}/{quote(igsid, safe='')}"  # an id, never a path
        data = self._with_retries(
            lambda: self._get_json(url, {"fields": "name,username"}), event="instagram.profile"
        )
        return {k: str(data[k]) for k in ("name", "username") if isinstance(data.get(k), str)}

    def refusal(self, message: OutboundMessage) -> str | None:
        return refusal(message)

    def mark_read(self, message_id: str, *, typing: bool = True) -> None:
        """Instagram marks a thread seen per recipient, not per message: nothing to do."""

    def send(self, payload: dict[str, Any]) -> str:
        return self._send(payload)

    def media_info(self, media_id: str) -> MediaInfo:
        """An Instagram attachment's "media id" is its CDN URL, with the type the webhook
        named in the fragment (channels.instagram.webhook)."""
        url, _, hinted = media_id.partition("#")
        guessed, _ = mimetypes.guess_type(urlsplit(url).path)
        mime_type = hinted or guessed or "application/octet-stream"
        return MediaInfo(url=url, mime_type=mime_type, sha256="", file_size=None, id=media_id)

    def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        raise InvalidRequest("Instagram has no media upload: files go out by URL")

    def _send(self, body: dict[str, Any]) -> str:
        data = self._post(body, event="instagram.send", idempotent=False)
        message_id = data.get("message_id")
        if not message_id:
            raise DeliveryOutcomeUnknown(f"send accepted without a message id: {data!r}")
        return str(message_id)

    def _post_once(self, body: dict[str, Any], *, idempotent: bool) -> dict[str, Any]:
        try:
            return super()._post_once(body, idempotent=idempotent)
        except WhatsAppError as err:
            raise instagram_error(err) from None
