"""The number's WhatsApp business profile (what customers see about the business):
GET/POST /{phone-number-id}/whatsapp_business_profile. The profile photo goes through Meta's
Resumable Upload API: POST /{app-id}/uploads opens an upload session (`upload:<id>`), POST
/upload:<id> (`Authorization: OAuth <token>`, `file_offset: 0`) sends the bytes and answers a
handle, and the profile takes the handle as `profile_picture_handle`."""

from __future__ import annotations

from typing import Any

from channels.errors import TransientError
from channels.whatsapp_onboarding import OnboardingClient

PROFILE_FIELDS = "about,address,description,email,profile_picture_url,websites,vertical"
EDITABLE = ("about", "address", "description", "email", "websites", "vertical")


class BusinessProfileClient(OnboardingClient):
    """Shares the onboarding client's Graph call: typed errors, secrets redacted."""

    def __enter__(self) -> BusinessProfileClient:
        return self

    def read_profile(self, phone_number_id: str, *, token: str) -> dict[str, Any]:
        data = self._call(
            "GET", f"{phone_number_id}/whatsapp_business_profile", token=token,
            params={"fields": PROFILE_FIELDS},
        )  # fmt: skip
        rows = data.get("data")
        first = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}
        return {name: first.get(name) for name in (*EDITABLE, "profile_picture_url")}

    def upload_photo(self, data: bytes, mime_type: str, *, app_id: str, token: str) -> str:
        """The handle of `data` uploaded through the app's resumable upload session."""
        params = {"file_length": str(len(data)), "file_type": mime_type}
        session = self._call("POST", f"{app_id}/uploads", token=token, params=params)
        upload_id = session.get("id")
        if not isinstance(upload_id, str) or not upload_id.startswith("upload:"):
            raise TransientError("the upload session answered without an upload id")
        sent = self._call(
            "POST", upload_id, token=token, scheme="OAuth", content=data,
            extra_headers={"file_offset": "0", "Content-Type": "application/octet-stream"},
        )  # fmt: skip
        handle = sent.get("h")
        if not isinstance(handle, str) or not handle:
            raise TransientError("the upload answered without a file handle")
        return handle

    def set_photo(self, phone_number_id: str, handle: str, *, token: str) -> None:
        body = {"messaging_product": "whatsapp", "profile_picture_handle": handle}
        self._call("POST", f"{phone_number_id}/whatsapp_business_profile", token=token, json=body)

    def update_profile(self, phone_number_id: str, changes: dict[str, Any], *, token: str) -> None:
        """Send the fields in `changes`; None clears one, sent as Meta clears it ("" for a
        text, [] for websites). A field not in `changes` is not sent, so Meta keeps it."""
        body: dict[str, Any] = {"messaging_product": "whatsapp"}
        for name in (k for k in EDITABLE if k in changes):
            cleared = [] if name == "websites" else ""
            body[name] = cleared if changes[name] is None else changes[name]
        self._call("POST", f"{phone_number_id}/whatsapp_business_profile", token=token, json=body)
