"""A small synchronous client for the WhatsApp Cloud API messages endpoint."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from channels.errors import (
    DeliveryOutcomeUnknown,
    TransientError,
    WhatsAppError,
    error_from_response,
)

log = logging.getLogger(__name__)

# The request never left this process: resending cannot duplicate a message.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAX_BACKOFF = 30.0  # a longer Retry-After is the caller's to schedule, not a blocked worker's
_sleep = time.sleep


@dataclass(frozen=True)
class Recipient:
    wa_id: str | None = None
    user_id: str | None = None

    def __post_init__(self) -> None:
        if not self.wa_id and not self.user_id:
            raise ValueError("a recipient needs a wa_id or a user_id")

    def fields(self) -> dict[str, str]:
        """The addressing fields of a send: `to` for a phone, `recipient` for a user id."""
        if self.wa_id:
            return {"to": self.wa_id}
        assert self.user_id is not None
        return {"recipient": self.user_id}


class WhatsAppClient:
    def __init__(
        self,
        *,
        api_root: str,
        access_token: str,
        phone_number_id: str,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        http: httpx.Client | None = None,
    ) -> None:
        self._url = f"{api_root.rstrip('/')}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._phone_number_id = phone_number_id
        self._timeout = timeout
        self._max_attempts = max(1, max_attempts)
        self._backoff_base = backoff_base
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout)

    def __repr__(self) -> str:  # never show the token
        return f"WhatsAppClient(phone_number_id={self._phone_number_id!r})"

    def send_text(
        self,
        recipient: Recipient,
        text: str,
        *,
        reply_to: str | None = None,
        callback_data: str | None = None,
        preview_url: bool = False,
    ) -> str:
        payload: dict[str, Any] = {
            **recipient.fields(),
            "type": "text",
            "text": {"body": text, "preview_url": preview_url},
        }
        if reply_to:
            payload["context"] = {"message_id": reply_to}
        if callback_data is not None:
            payload["biz_opaque_callback_data"] = callback_data
        return self.send(payload)

    def send(self, payload: dict[str, Any]) -> str:
        """Send any message object (addressing fields included) and return its wamid."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **payload}
        data = self._post(body, event="whatsapp.send", idempotent=False)
        try:
            return str(data["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            # Meta answered 2xx, so the message is probably out; we just cannot name it.
            raise DeliveryOutcomeUnknown(f"send accepted without a message id: {data!r}") from None

    def mark_read(self, wamid: str, *, typing: bool = True) -> None:
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": wamid,
        }
        if typing:
            body["typing_indicator"] = {"type": "text"}
        self._post(body, event="whatsapp.read", idempotent=True)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> WhatsAppClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _post(self, body: dict[str, Any], *, event: str, idempotent: bool) -> dict[str, Any]:
        attempt = 1
        while True:
            try:
                return self._post_once(body, idempotent=idempotent)
            except WhatsAppError as err:
                delay = self._retry_delay(err, attempt)
                if delay is None:
                    log.warning("%s.failed attempts=%d error=%s", event, attempt, err)
                    raise
                log.info("%s.retry attempt=%d delay=%.3f error=%s", event, attempt, delay, err)
            _sleep(delay)
            attempt += 1

    def _retry_delay(self, err: WhatsAppError, attempt: int) -> float | None:
        if not err.retryable or attempt >= self._max_attempts:
            return None
        if err.retry_after is not None:
            return err.retry_after if err.retry_after <= _MAX_BACKOFF else None
        ceiling = min(_MAX_BACKOFF, self._backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _post_once(self, body: dict[str, Any], *, idempotent: bool) -> dict[str, Any]:
        try:
            response = self._http.post(
                self._url, json=body, headers=self._headers, timeout=self._timeout
            )
        except _NOT_SENT as exc:
            raise TransientError(f"could not reach the Graph API: {exc!r}") from exc
        except httpx.TransportError as exc:
            if idempotent:
                raise TransientError(f"Graph API request failed: {exc!r}") from exc
            raise DeliveryOutcomeUnknown(
                f"no answer after sending, the message may be delivered: {exc!r}"
            ) from exc
        if not response.is_success:
            raise error_from_response(response.status_code, response.content, response.headers)
        try:
            data = response.json()
        except ValueError:
            data = None
        return data if isinstance(data, dict) else {}
