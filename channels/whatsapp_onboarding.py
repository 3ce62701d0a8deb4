"""Embedded Signup's Graph API calls: exchange the code the browser got for a business
token, subscribe our app to the WhatsApp Business Account, register the number for the
Cloud API and read its details. One attempt per call: the caller records the outcome and a
repeated onboarding resumes from the step that failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from channels.errors import TransientError, WhatsAppError, error_from_response
from observability.logs import get_logger

log = get_logger(__name__)

# `messaging_limit_tier` is deprecated: Meta answers the limit in the newer field.
NUMBER_FIELDS = (
    "display_phone_number,verified_name,quality_rating,code_verification_status,status,"
    "whatsapp_business_manager_messaging_limit,messaging_limit_tier"
)


@dataclass(frozen=True)
class NumberDetails:
    """GET /{phone-number-id}: what the merchant's customers see, and its standing."""

    display_phone_number: str | None
    verified_name: str | None
    quality_rating: str | None
    messaging_limit: str | None
    code_verification_status: str | None
    registered: bool  # status CONNECTED: already registered for the Cloud API


class OnboardingClient:
    def __init__(self, *, api_root: str, timeout: float = 10.0, http: httpx.Client | None = None):
        self._api_root = api_root.rstrip("/")
        self._timeout = timeout
        self._http = http or httpx.Client(timeout=timeout)

    def exchange_code(self, *, app_id: str, app_secret: str, code: str) -> str:
        """The business token for an Embedded Signup code (codes live about 30 seconds and
        serve once)."""
        params = {"client_id": app_id, "client_secret": app_secret, "code": code}
        data = self._call("GET", "oauth/access_token", params=params, hide=(app_secret, code))
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise TransientError("the code exchange answered without an access token")
        return token

    def subscribe_app(self, waba_id: str, *, token: str) -> None:
        """Our app receives the business account's webhooks (again: harmless)."""
        self._call("POST", f"{waba_id}/subscribed_apps", token=token)

    def register(self, phone_number_id: str, *, token: str, pin: str) -> None:
        """Register the number for the Cloud API, setting its two-step verification PIN."""
        body = {"messaging_product": "whatsapp", "pin": pin}
        self._call("POST", f"{phone_number_id}/register", token=token, json=body, hide=(pin,))

    def number_details(self, phone_number_id: str, *, token: str) -> NumberDetails:
        data = self._call("GET", phone_number_id, token=token, params={"fields": NUMBER_FIELDS})
        limit = data.get("whatsapp_business_manager_messaging_limit") or data.get(
            "messaging_limit_tier"
        )
        return NumberDetails(
            display_phone_number=_text(data.get("display_phone_number")),
            verified_name=_text(data.get("verified_name")),
            quality_rating=_text(data.get("quality_rating")),
            messaging_limit=_text(limit),
            code_verification_status=_text(data.get("code_verification_status")),
            registered=data.get("status") == "CONNECTED",
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OnboardingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        hide: tuple[str, ...] = (),
        scheme: str = "Bearer",
        extra_headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """One Graph API call; errors typed (channels.errors) and without any secret."""
        headers = {"Authorization": f"{scheme} {token}"} if token else {}
        headers.update(extra_headers or {})
        secrets = (*hide, *((token,) if token else ()))
        try:
            response = self._http.request(
                method, f"{self._api_root}/{path}", headers=headers, timeout=self._timeout,
                **kwargs,
            )  # fmt: skip
            if not response.is_success:
                raise error_from_response(response.status_code, response.content, response.headers)
            data = response.json()
        except httpx.TransportError as exc:
            raise _redacted(TransientError(f"Graph API request failed: {exc!r}"), secrets) from None
        except ValueError:
            raise TransientError(f"Graph API {method} {path.split('/')[-1]}: not JSON") from None
        except WhatsAppError as err:
            raise _redacted(err, secrets) from None
        return data if isinstance(data, dict) else {}


def _redacted(err: WhatsAppError, secrets: tuple[str, ...]) -> WhatsAppError:
    for secret in secrets:
        err.redact(secret)
    return err


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
