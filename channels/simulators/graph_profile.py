"""The WhatsApp business profile in the Graph simulator, in Meta's shapes.

- GET /{phone-number-id}/whatsapp_business_profile?fields=about,address,... answers
  {"data": [{"messaging_product": "whatsapp", <the fields asked for that are set>}]}.
- POST /{phone-number-id}/whatsapp_business_profile {"messaging_product": "whatsapp",
  "about"?, "address"?, "description"?, "email"?, "websites"?, "vertical"?} answers
  {"success": true}; "" clears address, description or email and [] clears websites (a
  cleared field is no longer in the GET). Meta's limits are enforced with error 100 (about
  1-139 characters and never empty, address 256, description 512, email 128 and a valid
  address, websites at most 2 http(s) URLs of 256, vertical from its enum, no nulls);
  `profile_picture_handle`
  must be a handle an upload answered (error 100 otherwise), and sets profile_picture_url.
- Resumable Upload API: POST /{app-id}/uploads?file_length=&file_type= (Bearer token; the
  app id must be the onboarding store's `app_id`) answers
  {"id": "upload:<session>?sig=<signature>"}; POST to that id (signature included) with
  `Authorization: OAuth <token>`, `file_offset: 0` and exactly file_length bytes answers
  {"h": "<handle>"}. Meta's error 100 for a missing or wrong parameter, 190 for a missing
  OAuth token.
`posted` keeps every accepted POST body, for tests to check the payload; `photos` the bytes
each handle stands for.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from channels.simulators.graph_wire import (
    GraphError,
    invalid_token,
    json_object,
    require,
    unsupported,
)
from channels.simulators.http import Request, Response

VERTICALS = frozenset({
    "UNDEFINED", "OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN", "EVENT_PLAN",
    "FINANCE", "GROCERY", "GOVT", "HOTEL", "HEALTH", "NONPROFIT", "PROF_SERVICES", "RETAIL",
    "TRAVEL", "RESTAURANT", "NOT_A_BIZ",
})  # fmt: skip
EDITABLE = ("about", "address", "description", "email", "websites", "vertical")
UPLOAD_TYPES = frozenset({"application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4"})
PICTURE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png"})
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
WEBSITE = re.compile(r"https?://[^\s/]+\S*")


@dataclass
class UploadSession:
    file_length: int
    file_type: str
    signature: str


@dataclass
class ProfileStore:
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    posted: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, UploadSession] = field(default_factory=dict)  # "upload:..." -> session
    photos: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # handle -> (type, data)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def reset(self) -> None:
        with self._lock:
            self.profiles.clear()
            self.posted.clear()
            self.uploads.clear()
            self.photos.clear()

    def start_upload(self, app_id: str, request: Request, *, our_app_id: str) -> Response:
        if app_id != our_app_id:
            raise unsupported("POST", f"{app_id}/uploads")
        length = (request.query.get("file_length") or [""])[0]
        file_type = (request.query.get("file_type") or [""])[0]
        require(length.isdigit() and int(length) > 0, "The parameter file_length is required")
        require(
            file_type in UPLOAD_TYPES,
            "Param file_type must be one of {" + ", ".join(sorted(UPLOAD_TYPES)) + "}",
        )
        upload_id = "upload:" + base64.urlsafe_b64encode(secrets.token_bytes(18)).decode()
        signature = "AR" + secrets.token_urlsafe(16)
        with self._lock:
            self.uploads[upload_id] = UploadSession(int(length), file_type, signature)
        return Response.json({"id": f"{upload_id}?sig={signature}"})  # as Meta signs its ids

    def receive_upload(self, upload_id: str, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "OAuth" or not token.strip():
            raise invalid_token()
        with self._lock:
            upload = self.uploads.get(upload_id)
            if upload is None or (request.query.get("sig") or [""])[0] != upload.signature:
                raise unsupported("POST", upload_id)
            require(request.headers.get("file_offset") == "0", "file_offset must be 0")
            require(
                len(request.body) == upload.file_length,
                f"the file is {len(request.body)} bytes, not file_length {upload.file_length}",
            )
            handle = "4::" + base64.b64encode(upload.file_type.encode()).decode() + ":"
            handle += base64.b64encode(secrets.token_bytes(24)).decode()
            self.photos[handle] = (upload.file_type, request.body)
            del self.uploads[upload_id]
        return Response.json({"h": handle})

    def read(self, phone_number_id: str, request: Request) -> Response:
        fields = (request.query.get("fields") or ["about"])[0]
        wanted = {name.strip() for name in fields.split(",")}
        with self._lock:
            profile = self.profiles.get(phone_number_id, {})
            shown = {name: value for name, value in profile.items() if name in wanted}
        return Response.json({"data": [{"messaging_product": "whatsapp", **shown}]})

    def update(self, phone_number_id: str, request: Request) -> Response:
        body = json_object(request)
        require(body.get("messaging_product") == "whatsapp", "messaging_product must be whatsapp")
        _check_limits(body)
        with self._lock:
            profile = self.profiles.setdefault(phone_number_id, {})
            if "profile_picture_handle" in body:
                profile["profile_picture_url"] = self._picture_url(body["profile_picture_handle"])
            for name in (name for name in EDITABLE if name in body):
                if body[name] in ("", []):  # how Meta clears a field
                    profile.pop(name, None)
                else:
                    profile[name] = body[name]
            self.posted.append(body)
        return Response.json({"success": True})

    def _picture_url(self, handle: object) -> str:
        photo = self.photos.get(handle) if isinstance(handle, str) else None
        if photo is None or photo[0] not in PICTURE_TYPES:
            raise GraphError(100, details="Param profile_picture_handle is not a valid handle.")
        digest = hashlib.sha256(photo[1]).hexdigest()[:32]
        return f"https://pps.whatsapp.net/v/t61.24694-24/{digest}_n.jpg"


def _check_limits(body: dict[str, Any]) -> None:
    """Meta's checks on an update. "" clears address, description and email, [] clears
    websites; About cannot be empty; null is not a value Meta takes for any field."""
    for name in ("about", "address", "description", "email", "vertical"):
        if name in body and not isinstance(body[name], str):
            raise GraphError(100, details=f"Param {name} must be a string.")
    about = body.get("about")
    if about is not None and not 1 <= len(about) <= 139:
        raise GraphError(100, details="Param about must be between 1 and 139 characters long.")
    for name, limit in (("address", 256), ("description", 512), ("email", 128)):
        if len(body.get(name) or "") > limit:
            raise GraphError(100, details=f"Param {name} must be at most {limit} characters long.")
    if body.get("email") and not EMAIL.fullmatch(body["email"]):
        raise GraphError(100, details="Param email must be a valid email address.")
    if "websites" in body:
        _check_websites(body["websites"])
    vertical = body.get("vertical")
    if vertical is not None and vertical not in VERTICALS:
        raise GraphError(
            100, details="Param vertical must be one of {" + ", ".join(sorted(VERTICALS)) + "}"
        )


def _check_websites(websites: object) -> None:
    if not isinstance(websites, list) or len(websites) > 2:
        raise GraphError(100, details="Param websites must be an array with at most 2 elements.")
    for site in websites:
        if not isinstance(site, str) or not WEBSITE.fullmatch(site) or len(site) > 256:
            raise GraphError(
                100, details="Param websites[] must be a URL starting with http:// or https://, "
                "at most 256 characters long.",
            )  # fmt: skip
