"""The WhatsApp business profile in the Graph simulator, in Meta's shapes.

- GET /{phone-number-id}/whatsapp_business_profile?fields=about,address,... answers
  {"data": [{"messaging_product": "whatsapp", <the fields asked for that are set>}]}.
- POST /{phone-number-id}/whatsapp_business_profile {"messaging_product": "whatsapp",
  "about"?, "address"?, "description"?, "email"?, "websites"?, "vertical"?} answers
  {"success": true}; Meta's limits are enforced with error 100 (about 1-139 characters,
  description 512, websites at most 2, vertical from its enum).
`posted` keeps every accepted POST body, for tests to check the payload.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from channels.simulators.graph_wire import GraphError, json_object, require
from channels.simulators.http import Request, Response

VERTICALS = frozenset({
    "UNDEFINED", "OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN", "EVENT_PLAN",
    "FINANCE", "GROCERY", "GOVT", "HOTEL", "HEALTH", "NONPROFIT", "PROF_SERVICES", "RETAIL",
    "TRAVEL", "RESTAURANT", "NOT_A_BIZ",
})  # fmt: skip
EDITABLE = ("about", "address", "description", "email", "websites", "vertical")


@dataclass
class ProfileStore:
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    posted: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def reset(self) -> None:
        with self._lock:
            self.profiles.clear()
            self.posted.clear()

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
            profile.update({name: body[name] for name in EDITABLE if name in body})
            self.posted.append(body)
        return Response.json({"success": True})


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
