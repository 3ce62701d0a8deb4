"""The WhatsApp Cloud API channel: a small synchronous client for one business number
(messages, read receipts, media, message templates)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from channels.base import OutboundMessage, OutboundText, Recipient
from channels.errors import (
    DeliveryOutcomeUnknown,
    InvalidRequest,
    MediaHostRefused,
    MediaTooLarge,
    MediaUrlExpired,
    TransientError,
    WhatsAppError,
    error_from_response,
)
from channels.whatsapp_messages import CAPABILITIES, addressing, message_object, refusal
from observability.logs import get_logger

log = get_logger(__name__)

# The request never left this process: resending cannot duplicate a message.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAX_BACKOFF = 30.0  # a longer Retry-After is the caller's to schedule, not a blocked worker's
_sleep = time.sleep
# A download URL answering these has expired (it lives ~5 minutes): a fresh one is needed.
_EXPIRED_URL_STATUSES = (401, 403, 404)
_CHUNK = 64 * 1024
# Graph error 100 with this subcode: the template name already has content in that language.
TEMPLATE_EXISTS_SUBCODE = 2388024
_TEMPLATE_FIELDS = "id,name,language,status,category,rejected_reason,components,parameter_format"
_TEMPLATE_PAGES = 50  # 100 templates a page: far more than a business account may hold

T = TypeVar("T")


class TemplateExists(InvalidRequest):
    """Creating a template whose name already has content in that language: read its
    status instead (GET message_templates?name=...)."""


@dataclass(frozen=True)
class MediaInfo:
    """GET /{media-id}: where to download the file (for ~5 minutes) and what to expect."""

    url: str
    mime_type: str
    sha256: str
    file_size: int | None
    id: str


@dataclass(frozen=True)
class RemoteTemplate:
    """A message template as the WhatsApp Business Account holds it."""

    id: str
    name: str
    language: str
    status: str  # APPROVED, PENDING, REJECTED, PAUSED, DISABLED...
    category: str | None = None
    rejected_reason: str | None = None
    # HEADER, BODY, FOOTER, BUTTONS as Meta holds them (empty when not asked for)
    components: tuple[dict[str, Any], ...] = ()
    parameter_format: str = "POSITIONAL"  # or NAMED: {{first_name}} instead of {{1}}


class WhatsAppClient:
    """A `channels.base.Channel` for one WhatsApp business number."""

    capabilities = CAPABILITIES

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
        media_hosts: Sequence[str] = (),
    ) -> None:
        self._api_root = api_root.rstrip("/")
        self._media_hosts = tuple(media_hosts)
        self._url = f"{self._api_root}/{phone_number_id}/messages"
        self._token = access_token
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._phone_number_id = phone_number_id
        self._timeout = timeout
        self._max_attempts = max(1, max_attempts)
        self._backoff_base = backoff_base
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout)

    def __repr__(self) -> str:  # never show the token
        return f"WhatsAppClient(phone_number_id={self._phone_number_id!r})"

    def send_message(
        self, recipient: Recipient, message: OutboundMessage, *, callback_data: str | None = None
    ) -> str:
        """Send one of our outbound messages and return its wamid. `callback_data` comes
        back on the message's status webhooks (biz_opaque_callback_data)."""
        payload = {**addressing(recipient), **message_object(message)}
        if callback_data is not None:
            payload["biz_opaque_callback_data"] = callback_data
        return self.send(payload)

    def refusal(self, message: OutboundMessage) -> str | None:
        return refusal(message)

    def send_text(
        self,
        recipient: Recipient,
        text: str,
        *,
        reply_to: str | None = None,
        callback_data: str | None = None,
        preview_url: bool = False,
    ) -> str:
        text_message = OutboundText(text, reply_to=reply_to, preview_url=preview_url)
        return self.send_message(recipient, text_message, callback_data=callback_data)

    def send(self, payload: dict[str, Any]) -> str:
        """Send a raw Cloud API message object (addressing fields included) and return its
        wamid. Callers outside channels/ use send_message."""
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

    def media_info(self, media_id: str) -> MediaInfo:
        """Metadata and a fresh download URL of a media id (from a webhook or an upload)."""
        url = f"{self._api_root}/{quote(media_id, safe='')}"  # an id, never a path
        params = {"phone_number_id": self._phone_number_id}
        data = self._with_retries(lambda: self._get_json(url, params), event="whatsapp.media_info")
        try:
            size = data.get("file_size")
            return MediaInfo(
                url=str(data["url"]),
                mime_type=str(data.get("mime_type") or "application/octet-stream"),
                sha256=str(data.get("sha256") or ""),
                file_size=int(size) if size is not None else None,
                id=str(data.get("id") or media_id),
            )
        except (KeyError, TypeError, ValueError):
            raise TransientError(f"media info without a usable url or size: {data!r}") from None

    def download(self, url: str, *, max_bytes: int) -> bytes:
        """The bytes behind a media URL; MediaTooLarge as soon as they pass `max_bytes`.

        The request carries the access token, so it goes only to `media_hosts`
        (see media_url_allowed); any other URL raises MediaHostRefused unrequested."""
        if not media_url_allowed(url, self._media_hosts):
            host = urlsplit(url).hostname
            log.warning("whatsapp.media_download.refused_host", host=host)
            raise MediaHostRefused(
                f"media URL on {urlsplit(url).scheme}://{host} is not an allowed media host"
            )
        return self._with_retries(
            lambda: self._download_once(url, max_bytes), event="whatsapp.media_download"
        )

    def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        """Upload a file to send by id (POST /{phone-number-id}/media); returns the media id.

        WhatsApp keeps an uploaded file 30 days. Retrying is safe: a duplicate upload only
        creates an unused id."""
        url = f"{self._api_root}/{self._phone_number_id}/media"
        form = {"messaging_product": "whatsapp", "type": mime_type}
        files = {"file": (filename, data, mime_type)}
        answer = self._with_retries(
            lambda: self._upload_once(url, form, files), event="whatsapp.media_upload"
        )
        media_id = answer.get("id")
        if not media_id:
            raise TransientError(f"media upload answered without an id: {answer!r}")
        return str(media_id)

    def submit_template(
        self,
        waba_id: str,
        *,
        name: str,
        language: str,
        category: str,
        body: str,
        example: list[str] | None = None,
        quick_replies: tuple[str, ...] = (),
    ) -> RemoteTemplate:
        """Submit a template for review: a body, and `quick_replies` button texts if any;
        `example`: one value per placeholder, which Meta requires to review parameters."""
        component: dict[str, Any] = {"type": "BODY", "text": body}
        if example:
            component["example"] = {"body_text": [example]}
        components = [component]
        if quick_replies:
            buttons = [{"type": "QUICK_REPLY", "text": text} for text in quick_replies]
            components.append({"type": "BUTTONS", "buttons": buttons})
        return self.create_template(
            waba_id, name=name, language=language, category=category, components=components
        )

    def create_template(
        self,
        waba_id: str,
        *,
        name: str,
        language: str,
        category: str,
        components: list[dict[str, Any]],
    ) -> RemoteTemplate:
        """Submit a template for review (POST /{waba-id}/message_templates).

        Raises TemplateExists when the name already has content in that language. Retrying
        is safe: a create that went through before a lost answer shows up as TemplateExists."""
        url = f"{self._api_root}/{waba_id}/message_templates"
        body = {"name": name, "language": language, "category": category, "components": components}
        try:
            data = self._with_retries(
                lambda: self._json_call("POST", url, json=body, timeout=self._timeout),
                event="whatsapp.template_create",
            )
        except InvalidRequest as err:
            if err.subcode == TEMPLATE_EXISTS_SUBCODE:
                raise _template_exists(err) from err
            raise
        if not data.get("id"):
            raise TransientError(f"template creation answered without an id: {data!r}")
        return RemoteTemplate(
            id=str(data["id"]), name=name, language=language,
            status=str(data.get("status") or "PENDING"), category=_opt_str(data.get("category")),
        )  # fmt: skip

    def list_templates(self, waba_id: str, *, name: str | None = None) -> list[RemoteTemplate]:
        """The business account's templates (GET /{waba-id}/message_templates), every page.

        Meta's `name` filter is not an exact match: callers compare names themselves."""
        url = f"{self._api_root}/{waba_id}/message_templates"
        params = {"fields": _TEMPLATE_FIELDS, "limit": "100", **({"name": name} if name else {})}
        found: list[RemoteTemplate] = []
        for _ in range(_TEMPLATE_PAGES):
            page = self._with_retries(
                partial(self._get_json, url, dict(params)), event="whatsapp.template_list"
            )
            found += [_remote_template(t) for t in page.get("data") or [] if isinstance(t, dict)]
            paging = page.get("paging")
            if not isinstance(paging, dict):
                paging = {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
            params["after"] = str(after)
        return found

    def _upload_once(
        self, url: str, form: dict[str, str], files: dict[str, tuple[str, bytes, str]]
    ) -> dict[str, Any]:
        return self._json_call(
            "POST", url, data=form, files=files,
            timeout=max(self._timeout, 60.0),  # files up to 100 MB
        )  # fmt: skip

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
        return self._with_retries(lambda: self._post_once(body, idempotent=idempotent), event=event)

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
        return _json_object(response) or {}

    def _with_retries(self, call: Callable[[], T], *, event: str) -> T:
        """Retry retryable errors with backoff (a send's unknown outcome is never retryable)."""
        attempt = 1
        while True:
            try:
                return call()
            except WhatsAppError as err:
                err.redact(self._token)
                delay = self._retry_delay(err, attempt)
                if delay is None:
                    log.warning(f"{event}.failed", attempts=attempt, error=str(err))
                    raise
                log.info(f"{event}.retry", attempt=attempt, delay=round(delay, 3), error=str(err))
            _sleep(delay)
            attempt += 1

    def _get_json(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        return self._json_call("GET", url, params=params, timeout=self._timeout)

    def _json_call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """One Graph API call answering a JSON object; transport failures are transient."""
        try:
            response = self._http.request(method, url, headers=self._headers, **kwargs)
        except httpx.TransportError as exc:
            raise TransientError(f"Graph API request failed: {exc!r}") from exc
        data = _json_object(response)
        if data is None:
            raise TransientError(f"Graph API answered without a JSON object: {response.text[:200]}")
        return data

    def _download_once(self, url: str, max_bytes: int) -> bytes:
        try:
            with self._http.stream(
                "GET", url, headers=self._headers, timeout=self._timeout
            ) as response:
                if response.status_code in _EXPIRED_URL_STATUSES:
                    raise MediaUrlExpired(
                        f"media URL answered HTTP {response.status_code}",
                        http_status=response.status_code,
                    )
                if not response.is_success:
                    body = response.read()[:2000]
                    raise error_from_response(response.status_code, body, response.headers)
                return _read_capped(response, max_bytes)
        except httpx.TransportError as exc:
            raise TransientError(f"media download failed: {exc!r}") from exc


def media_url_allowed(url: str, patterns: Sequence[str]) -> bool:
    """Whether a media URL may receive the access token: https on a host matching a pattern
    (`lookaside.fbsbx.com`, `*.fbcdn.net`) on the default port, or plain http to a pattern
    that says so (`http://127.0.0.1` or `http://127.0.0.1:8080`: the simulators)."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        return False
    try:
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return bool(host) and any(_matches(pattern, parts.scheme, host, port) for pattern in patterns)


def _matches(pattern: str, scheme: str, host: str, port: int | None) -> bool:
    wanted_scheme, _, rest = pattern.strip().lower().rpartition("://")
    if scheme != (wanted_scheme or "https"):
        return False
    wanted = urlsplit(f"//{rest}")
    if wanted.port is not None:
        if port != wanted.port:
            return False
    elif scheme == "https" and port not in (None, 443):
        return False
    name = wanted.hostname or ""
    if name.startswith("*."):
        return host.endswith(name[1:])
    return host == name


def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise MediaTooLarge(
            f"media is {int(declared)} bytes, over the {max_bytes} byte limit",
            size=int(declared),
            limit=max_bytes,
        )
    chunks: list[bytes] = []
    received = 0
    for chunk in response.iter_bytes(_CHUNK):
        received += len(chunk)
        if received > max_bytes:
            raise MediaTooLarge(
                f"media passed the {max_bytes} byte limit while downloading", limit=max_bytes
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _template_exists(err: InvalidRequest) -> TemplateExists:
    return TemplateExists(
        err.message, code=err.code, subcode=err.subcode, title=err.title, details=err.details,
        http_status=err.http_status, fbtrace_id=err.fbtrace_id,
    )  # fmt: skip


def _remote_template(data: dict[str, Any]) -> RemoteTemplate:
    return RemoteTemplate(
        id=str(data.get("id") or ""),
        name=str(data.get("name") or ""),
        language=str(data.get("language") or ""),
        status=str(data.get("status") or "UNKNOWN"),
        category=_opt_str(data.get("category")),
        rejected_reason=_opt_str(data.get("rejected_reason")),
        components=tuple(c for c in data.get("components") or [] if isinstance(c, dict)),
        parameter_format=str(data.get("parameter_format") or "POSITIONAL").upper(),
    )


def _opt_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body of a successful answer as a JSON object (None if it is not one);
    an error answer raises its typed WhatsApp error."""
    if not response.is_success:
        raise error_from_response(response.status_code, response.content, response.headers)
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
