"""The WhatsApp business profile in the Graph simulator, in Meta's shapes.

- GET /{phone-number-id}/whatsapp_business_profile?fields=about,address,... answers
  {"data": [{"messaging_product": "whatsapp", <the fields asked for that are set>}]}.
- POST /{phone-number-id}/whatsapp_business_profile {"messaging_product": "whatsapp",
  "about"?, "address"?, "description"?, "email"?, "websites"?, "vertical"?} answers
  {"success": true}; Meta's limits are enforced with error 100 (about 1-139 characters,
  description 512, websites at most 2, vertical from its enum); `profile_picture_handle`
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
            profile.update({name: body[name] for name in EDITABLE if name in body})
            self.posted.append(body)
        return Response.json({"success": True})

    def _picture_url(self, handle: object) -> str:
        photo = self.photos.get(handle) if isinstance(handle, str) else None
        if photo is None or photo[0] not in PICTURE_TYPES:
            raise GraphError(100, details="Param profile_picture_handle is not a valid handle.")
        digest = hashlib.sha256(photo[1]).hexdigest()[:32]
        return f"https://pps.whatsapp.net/v/t61.24694-24/{digest}_n.jpg"


def _check_limits(body: dict[str, Any]) -> None:
    about = body.get("about")
    if about is not None and not (isinstance(about, str) and 1 <= len(about) <= 139):
        raise GraphError(100, details="Param about must be at most 139 characters long.")
    description = body.get("description")
    if description is not None and len(str(description)) > 512:
        raise GraphError(100, details="Param description must be at most 512 characters long.")
    websites = body.get("websites")
    if websites is not None and (not isinstance(websites, list) or len(websites) > 2):
        raise GraphError(100, details="Param websites must be an array with at most 2 elements.")
    vertical = body.get("vertical")
    if vertical is not None and vertical not in VERTICALS:
        raise GraphError(
            100, details="Param vertical must be one of {" + ", ".join(sorted(VERTICALS)) + "}"
        )
