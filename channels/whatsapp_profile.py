"""The number's WhatsApp business profile (what customers see about the business):
GET/POST /{phone-number-id}/whatsapp_business_profile. The profile photo (set through a
resumable upload handle) is read here but not changed."""

from __future__ import annotations

from typing import Any

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

    def update_profile(self, phone_number_id: str, changes: dict[str, Any], *, token: str) -> None:
        body = {
            "messaging_product": "whatsapp",
            **{k: changes[k] for k in EDITABLE if k in changes},
        }
        self._call("POST", f"{phone_number_id}/whatsapp_business_profile", token=token, json=body)
